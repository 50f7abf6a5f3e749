"""The flashlight backend reads the same saved folder and fixes the same ambiguity (skipped without flashlight)."""

from __future__ import annotations

import numpy as np
import pytest

from hf_asr.decoding.backends import load_lm_decoder
from hf_asr.modeling.lm_decoder import LMDecoder

from .synthetic import ambiguous, greedy, spell

pytest.importorskip("flashlight.lib.text", reason="flashlight-text is not installed (pip install flashlight-text)")


@pytest.fixture(scope="module")
def folder(tmp_path_factory, labels, arpa_path, unigrams):
    path = tmp_path_factory.mktemp("fl")
    LMDecoder(labels, arpa_path, unigrams, alpha=0.5, beta=1.0, beam_width=10).save_pretrained(path)
    return path


def test_same_folder_same_fix(folder, labels):
    flashlight = load_lm_decoder(folder, "flashlight")
    log_probs = np.concatenate([spell("the ", labels), ambiguous("cat", "cst", labels)])
    assert greedy(log_probs, labels) == "the cst"
    assert flashlight.decode(log_probs) == load_lm_decoder(folder).decode(log_probs) == "the cat"


def test_batch_offsets_and_pipeline_format(folder, labels):
    flashlight = load_lm_decoder(folder, "flashlight", beam_width=5)
    batch = [spell("the cat", labels), spell("a mat", labels)]
    out = flashlight.decode_batch(batch, num_processes=2)
    assert out.text == ["the cat", "a mat"]
    # Flashlight stamps each letter at a frame of its spike, up to one frame after where pyctcdecode starts it.
    starts = [(w["word"], w["start_offset"]) for w in out.word_offsets[0]]
    assert [w for w, _ in starts] == ["the", "cat"]
    assert 0 <= starts[0][1] <= 1 and 12 <= starts[1][1] <= 13
    beams = flashlight.decode_beams(batch[0])
    assert beams[0][0] == "the cat" and [w for w, _ in beams[0][2]] == ["the", "cat"]


def test_unknown_backend_is_an_error(folder):
    with pytest.raises(ValueError, match="kaldi"):
        load_lm_decoder(folder, "kaldi")


@pytest.mark.parametrize(
    "overrides, error, message",
    [
        ({"beam_width": 0}, ValueError, "beam_width must be a whole number >= 1, got 0"),
        ({"alpha": "1"}, TypeError, r"alpha must be a finite number, got '1' \(str\)"),
        ({"beta": float("nan")}, ValueError, "beta must be a finite number, got nan"),
        ({"beam_threshold": -1.0}, ValueError, "beam_threshold must be >= 0"),
        ({"beam_size_token": 0}, ValueError, "beam_size_token must be a whole number >= 1"),
    ],
)
def test_options_are_checked_like_lm_decoder(folder, overrides, error, message):
    with pytest.raises(error, match=message):
        load_lm_decoder(folder, "flashlight", **overrides)


def test_per_call_options_are_refused_not_ignored(folder, labels):
    flashlight = load_lm_decoder(folder, "flashlight")
    with pytest.raises(ValueError, match=r"cannot change \['hotwords'\] per call"):
        flashlight.decode_beams(spell("the cat", labels), hotwords=["mat"])
    with pytest.raises(ValueError, match="beam_width must be a whole number >= 1"):
        flashlight.decode_beams(spell("the cat", labels), beam_width=-1)


def test_corrupt_lm_is_named_before_flashlight_reads_it(folder, tmp_path, labels, unigrams):
    from hf_asr.decoding.flashlight_decoder import FlashlightLMDecoder

    junk = tmp_path / "lm.bin"
    junk.write_bytes(b"\x00\x01 not a language model")
    with pytest.raises(ValueError, match=f"cannot load KenLM model {junk}: corrupt"):
        FlashlightLMDecoder(labels, junk, unigrams)
