"""tune_alpha_beta: finds an LM weight that helps, on precomputed logits, without touching the decoder."""

from __future__ import annotations

import numpy as np
import pytest

from hf_asr.decoding.tuning import greedy_wer, tune_alpha_beta
from hf_asr.modeling.lm_decoder import LMDecoder

from .synthetic import ambiguous, spell


@pytest.fixture(scope="module")
def dev_set(labels):
    """Utterances whose last word greedy misreads (cst/mst) but the LM knows (cat/mat)."""
    pairs = [("the ", "cat", "cst", "the cat"), ("on the ", "mat", "mst", "on the mat"), ("a ", "cat", "cst", "a cat")]
    logits = [
        np.concatenate([spell(prefix, labels), ambiguous(word, wrong, labels)]) for prefix, word, wrong, _ in pairs
    ]
    return logits, [ref for *_, ref in pairs]


def test_tuning_prefers_a_helpful_lm_weight(labels, arpa_path, unigrams, dev_set):
    logits, references = dev_set
    decoder = LMDecoder(labels, arpa_path, unigrams, alpha=0.0, beta=0.0)
    result = tune_alpha_beta(decoder, logits, references, alphas=[0.0, 0.5, 1.0], betas=[0.0, 1.0], progress=False)
    wer = {(p["alpha"], p["beta"]): p["wer"] for p in result.grid}
    assert len(result.grid) == 6
    assert greedy_wer(logits, references, labels) > 0
    assert wer[(0.0, 0.0)] == pytest.approx(greedy_wer(logits, references, labels))
    assert result.alpha > 0 and result.wer == 0.0
    assert "*" in result.table() and result.table().count("\n") == 3
    assert decoder.lm_params["alpha"] == 0.0  # the caller's decoder is unchanged


def test_parallel_grid_equals_serial(labels, arpa_path, unigrams, dev_set):
    logits, references = dev_set
    decoder = LMDecoder(labels, arpa_path, unigrams)
    grid = dict(alphas=[0.0, 1.0], betas=[0.0, 2.0], progress=False, beam_width=10)
    serial = tune_alpha_beta(decoder, logits, references, num_processes=1, **grid)
    parallel = tune_alpha_beta(decoder, logits, references, num_processes=2, **grid)
    assert serial == parallel


def test_mismatched_inputs_are_errors(labels, arpa_path, unigrams, dev_set):
    logits, references = dev_set
    with pytest.raises(ValueError, match="as many references"):
        tune_alpha_beta(LMDecoder(labels, arpa_path, unigrams), logits, references[:1], progress=False)
    with pytest.raises(ValueError, match="no language model"):
        tune_alpha_beta(LMDecoder(labels, None), logits, references, progress=False)
