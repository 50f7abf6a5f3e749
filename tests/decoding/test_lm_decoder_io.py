"""LMDecoder: save/load of the folder, and the errors for bad inputs and broken files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from pyctcdecode import BeamSearchDecoderCTC

from hf_asr.modeling.lm_decoder import LMDecoder
from hf_asr.modeling.lm_decoder_folder import LM_DIR

from .synthetic import peaky_random, spell


@pytest.fixture(scope="module")
def decoder(labels, arpa_path, unigrams) -> LMDecoder:
    return LMDecoder(labels, arpa_path, unigrams, alpha=0.7, beta=0.3, beam_width=12, token_min_logp=-6.0)


@pytest.fixture()
def saved(decoder, tmp_path):
    decoder.save_pretrained(tmp_path)
    return tmp_path


def test_save_load_decodes_identically(decoder, saved, labels):
    loaded = LMDecoder.from_pretrained(saved)
    assert loaded.lm_params == decoder.lm_params and loaded.search == decoder.search
    assert loaded.labels == decoder.labels and loaded.unigrams == decoder.unigrams
    batch = [peaky_random(40, labels, seed, scale=2.0) for seed in range(6)]
    assert loaded.decode_batch(batch) == decoder.decode_batch(batch)


def test_saved_folder_is_pyctcdecode_compatible(saved, labels):
    plain = BeamSearchDecoderCTC.load_from_dir(str(saved))
    assert plain.decode(spell("the cat", labels)) == "the cat"


def test_resave_replaces_atomically_and_keeps_working(decoder, saved, labels):
    loaded = LMDecoder.from_pretrained(saved)
    loaded.set_params(alpha=1.5)
    loaded.save_pretrained(saved)  # over the folder it was loaded from
    assert not [p.name for p in saved.iterdir() if p.name.startswith(".")]  # no temporary leftovers
    assert LMDecoder.from_pretrained(saved).lm_params["alpha"] == 1.5
    loaded.save_pretrained(saved)  # its KenLM path still points at a real file
    assert LMDecoder.from_pretrained(saved).decode(spell("the cat", labels)) == "the cat"


def test_save_params_rewrites_only_settings(decoder, saved):
    lm_file = saved / LM_DIR / "lm.arpa"
    before = lm_file.stat().st_mtime_ns
    tuned = LMDecoder.from_pretrained(saved)
    tuned.set_params(alpha=0.25, beta=2.0)
    tuned.save_params(saved)
    attrs = json.loads((saved / LM_DIR / "attrs.json").read_text())
    assert (attrs["alpha"], attrs["beta"]) == (0.25, 2.0)
    assert lm_file.stat().st_mtime_ns == before


def test_overrides_on_load(saved):
    assert LMDecoder.from_pretrained(saved, alpha=0.1, beam_width=3).lm_params["alpha"] == 0.1


@pytest.mark.parametrize(
    "bad_value, message",
    [(np.nan, "utterance 2: logits hold NaN or inf"), (np.inf, "utterance 2: logits hold NaN or inf")],
)
def test_non_finite_logits_name_the_utterance(decoder, labels, bad_value, message):
    batch = [peaky_random(20, labels, seed) for seed in range(4)]
    batch[2][7, 3] = bad_value
    with pytest.raises(ValueError, match=message):
        decoder.decode_batch(batch)


def test_minus_inf_is_log_zero_but_a_whole_frame_is_not(decoder, labels):
    log_probs = spell("the cat", labels)
    log_probs[:, 5] = -np.inf  # one label impossible everywhere: a valid log-probability
    assert decoder.decode(log_probs) == "the cat"
    log_probs[3, :] = -np.inf
    with pytest.raises(ValueError, match="frame 3"):
        decoder.decode(log_probs)


def test_probabilities_are_refused(decoder, labels):
    probs = np.exp(spell("the cat", labels))
    with pytest.raises(ValueError, match="look like probabilities.*log-probabilities"):
        decoder.decode(probs)


def test_wrong_vocabulary_size_names_both_sizes(decoder, labels):
    with pytest.raises(ValueError, match=f"5 classes per frame but the decoder's alphabet has {len(labels)} labels"):
        decoder.decode(np.zeros((10, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="must be \\(frames"):
        decoder.decode(np.zeros((2, 10, len(labels)), dtype=np.float32))


def test_missing_lm_file_names_the_path(labels, tmp_path, unigrams):
    missing = tmp_path / "nowhere.bin"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        LMDecoder(labels, missing, unigrams)


def test_corrupt_lm_file_names_the_path(saved):
    lm_file = saved / LM_DIR / "lm.arpa"
    lm_file.write_text("this is not an ARPA file\n")
    with pytest.raises(ValueError, match=f"cannot load KenLM model {lm_file}"):
        LMDecoder.from_pretrained(saved)


def test_missing_decoder_files_name_the_path(saved):
    (saved / LM_DIR / "unigrams.txt").unlink()
    with pytest.raises(FileNotFoundError, match="unigrams.txt"):
        LMDecoder.from_pretrained(saved)
    shutil.rmtree(saved / LM_DIR)
    with pytest.raises(FileNotFoundError, match=LM_DIR):
        LMDecoder.from_pretrained(saved)


def test_binary_lm_without_unigrams_is_refused(labels, tmp_path):
    with pytest.raises(ValueError, match="unigrams"):
        LMDecoder(labels, tmp_path / "lm.bin", None)


def test_decoder_without_lm_cannot_be_saved(labels, tmp_path):
    with pytest.raises(ValueError, match="no language model"):
        LMDecoder(labels, None).save_pretrained(tmp_path)
