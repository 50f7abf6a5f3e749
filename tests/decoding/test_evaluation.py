"""evaluate_ctc / transcribe_logits: greedy and LM transcripts, overall and per-group scores from one scorer."""

import datasets
import numpy as np
import pytest

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC, LogMelWav2Vec2Processor
from hf_asr.decoding.evaluation import evaluate_ctc, transcribe_logits
from hf_asr.metrics import error_rates
from hf_asr.modeling.lm_decoder import LMDecoder

from .synthetic import spell


def test_transcribe_logits_scores_and_groups(tokenizer, labels, arpa_path, unigrams):
    references = ["the cat sat", "a cat sat", "the mat"]
    spoken = ["the cat sat", "a cst sat", "the mat"]  # one misspelt word, which the LM can mend
    logits = [spell(text, labels) for text in spoken]
    decoder = LMDecoder(labels, arpa_path, unigrams, alpha=1.0, beta=0.0)
    result = transcribe_logits(
        logits, references, tokenizer, decoder, speakers=["x:a:s1:p1", "x:b:s1:p1", "x:a:s2:p1"], num_processes=1
    )
    assert result.greedy == spoken
    assert result.scores["wer_greedy"] == pytest.approx(error_rates(spoken, references)["wer"])
    assert result.scores["wer_lm"] <= result.scores["wer_greedy"]
    groups = result.by_group(lambda speaker: speaker.rsplit(":", 2)[0])
    assert {name: g["n_utterances"] for name, g in groups.items()} == {"x:a": 2, "x:b": 1}
    assert groups["x:a"]["wer_greedy"] == 0.0 and groups["x:b"]["wer_greedy"] == pytest.approx(1 / 3)
    without_lm = transcribe_logits(logits, references, tokenizer)
    assert without_lm.lm is None and "wer_lm" not in without_lm.scores
    with pytest.raises(ValueError, match="no speaker column"):
        without_lm.by_group(str)


def test_evaluate_ctc_runs_the_model_on_a_split(tokenizer):
    rng = np.random.default_rng(0)
    split = datasets.Dataset.from_dict(
        {
            "audio": [
                {"array": rng.standard_normal(n).astype(np.float32) * 0.1, "sampling_rate": 16000}
                for n in (8000, 12000, 4000)
            ],
            "text": ["ABC", "de, f", "g!"],  # references are normalised as labels are
        }
    )
    processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer)
    model = LogMelWav2Vec2ForCTC(LogMelWav2Vec2Config.tiny(vocab_size=len(tokenizer)))
    result = evaluate_ctc(model, processor, split, batch_size=2, progress=False)
    assert result.references == ["abc", "de f", "g"] and len(result.greedy) == 3 and result.speakers is None
    expected_frames = model.logit_lengths(np.array([8000, 12000, 4000]) // 160 + 1).tolist()
    assert [len(x) for x in result.logits] == expected_frames
    assert result.greedy == [tokenizer.decode(x.argmax(-1)) for x in result.logits]


def test_missing_columns_and_non_string_references_are_named(tokenizer, labels):
    split = datasets.Dataset.from_dict({"audio": [{"array": np.zeros(1600), "sampling_rate": 16000}], "txt": ["a"]})
    with pytest.raises(ValueError, match=r"no column\(s\) \['text'\]; its columns are \['audio', 'txt'\]"):
        evaluate_ctc(None, None, split, progress=False)
    with pytest.raises(TypeError, match=r"references\[1\] must be a str, got NoneType None"):
        transcribe_logits([spell("a", labels)] * 2, ["a", None], tokenizer)
