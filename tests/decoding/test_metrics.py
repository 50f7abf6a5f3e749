"""The shipped evaluate metric scripts load offline and agree with jiwer 4."""

from __future__ import annotations

import jiwer
import pytest

from hf_asr.metrics import load_metric

PREDICTIONS = ["the cat sat", "on the mat", "a hat"]
REFERENCES = ["the cat sat down", "on a mat", "a cat"]


def test_wer_and_cer_match_jiwer():
    assert load_metric("wer").compute(predictions=PREDICTIONS, references=REFERENCES) == pytest.approx(
        jiwer.wer(REFERENCES, PREDICTIONS)
    )
    cer = load_metric("cer").compute(predictions=PREDICTIONS, references=REFERENCES)
    assert cer == pytest.approx(jiwer.cer(REFERENCES, PREDICTIONS)) and 0 < cer < 1


def test_wer_is_pooled_over_words_not_averaged_per_sentence():
    # 1 error in 1 word + 0 errors in 3 words: pooled 1/4, a per-sentence mean would be 1/2.
    wer = load_metric("wer").compute(predictions=["x", "a b c"], references=["y", "a b c"])
    assert wer == pytest.approx(0.25)


def test_empty_reference_and_unknown_metric_are_errors():
    with pytest.raises(ValueError, match="empty"):
        load_metric("wer").compute(predictions=["a"], references=[" "])
    with pytest.raises(ValueError, match="bleu"):
        load_metric("bleu")
