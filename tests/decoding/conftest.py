"""Fixtures for the decoding tests: a character tokenizer, a hand-written ARPA LM, a tiny model folder with it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC, LogMelWav2Vec2Processor
from hf_asr.data.vocab import build_tokenizer
from hf_asr.hub import save_model_folder
from hf_asr.modeling.ctc_labels import ctc_labels
from hf_asr.modeling.lm_decoder import LMDecoder

# The LM knows these words; "cst" (what the ambiguous logits below spell greedily) is not one of them.
LM_SENTENCES = ["the cat sat", "the cat sat on the mat", "a cat sat on a mat"]
ALPHABET_TEXTS = ["abcdefghijklmnopqrstuvwxyz'"]

# A bigram ARPA model (log10 probabilities), written by hand so the test needs no lmplz.
ARPA = """
\\data\\
ngram 1=10
ngram 2=11

\\1-grams:
-1.5\t<unk>\t0
0\t<s>\t-0.3
-0.8\t</s>\t0
-0.7\tthe\t-0.3
-0.8\tcat\t-0.3
-0.9\tsat\t-0.3
-1.0\ton\t-0.3
-1.0\tmat\t-0.3
-1.1\ta\t-0.3
-1.2\thats\t-0.3

\\2-grams:
-0.2\t<s> the
-0.5\t<s> a
-0.2\tthe cat
-0.6\tthe mat
-0.2\tcat sat
-0.3\tsat on
-0.4\tsat </s>
-0.3\ton the
-0.4\ton a
-0.2\tmat </s>
-0.3\ta cat

\\end\\
"""


@pytest.fixture(scope="session")
def tokenizer():
    return build_tokenizer(ALPHABET_TEXTS)


@pytest.fixture(scope="session")
def labels(tokenizer) -> list[str]:
    return ctc_labels(tokenizer)


@pytest.fixture(scope="session")
def arpa_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lm") / "lm.arpa"
    path.write_text(ARPA.lstrip())
    return path


@pytest.fixture(scope="session")
def unigrams() -> list[str]:
    return ["the", "cat", "sat", "on", "mat", "a", "hats"]


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory, tokenizer, arpa_path, unigrams):
    """(folder, model, decoder): a tiny random CTC model whose head is scaled up so that its outputs are peaky (fast,
    stable beams), saved with its LM decoder."""
    config = LogMelWav2Vec2Config.tiny(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        hidden_dropout=0.0,
        attention_dropout=0.0,
        final_dropout=0.0,
    )
    torch.manual_seed(0)
    model = LogMelWav2Vec2ForCTC(config).eval()
    with torch.no_grad():
        model.lm_head.weight.mul_(40.0)
        model.lm_head.bias[tokenizer.pad_token_id] += 3.0  # blank wins often, as in a trained model
    decoder = LMDecoder.from_tokenizer(tokenizer, arpa_path, unigrams=unigrams, beam_width=8, alpha=1.0)
    processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer, decoder=decoder)
    return save_model_folder(model, processor, tmp_path_factory.mktemp("models") / "tiny"), model, decoder
