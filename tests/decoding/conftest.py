"""Fixtures for the decoding tests: a character tokenizer, a hand-written ARPA LM and logit builders."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_asr.data.vocab import build_tokenizer
from hf_asr.modeling.ctc_labels import ctc_labels

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
