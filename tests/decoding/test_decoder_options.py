"""Decoder options are checked in one place: every entry point names the option, the value and what is allowed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hf_asr.cli import main
from hf_asr.decoding.tuning import tune_alpha_beta
from hf_asr.modeling.decoder_options import check_grid, check_hotwords, check_lm_params, check_search_settings
from hf_asr.modeling.lm_decoder import LMDecoder
from hf_asr.modeling.lm_decoder_folder import LM_DIR, SEARCH_CONFIG_FILE

from .synthetic import ambiguous, spell

# (option, bad value, error type, what the message must say)
BAD_OPTIONS = [
    ("beam_width", 0, ValueError, r"beam_width must be a whole number >= 1, got 0"),
    ("beam_width", -3, ValueError, r"beam_width must be a whole number >= 1, got -3"),
    ("beam_width", 2.5, ValueError, r"beam_width must be a whole number >= 1, got 2.5"),
    ("beam_width", "10", TypeError, r"beam_width must be a finite number, got '10' \(str\)"),
    ("beam_prune_logp", float("nan"), ValueError, r"beam_prune_logp must be a finite number, got nan"),
    ("beam_prune_logp", 3.0, ValueError, r"beam_prune_logp must be <= 0.*got 3.0"),
    ("token_min_logp", float("-inf"), ValueError, r"token_min_logp must be a finite number, got -inf"),
    ("hotword_weight", None, TypeError, r"hotword_weight must be a finite number, got None"),
]
BAD_LM_PARAMS = [
    ("alpha", "0.5", TypeError, r"alpha must be a finite number, got '0.5' \(str\)"),
    ("alpha", float("nan"), ValueError, r"alpha must be a finite number, got nan"),
    ("beta", float("inf"), ValueError, r"beta must be a finite number, got inf"),
    ("beta", True, TypeError, r"beta must be a finite number, got True \(bool\)"),
    ("unk_score_offset", [1.0], TypeError, r"unk_score_offset must be a finite number, got \[1.0\]"),
    ("score_boundary", "yes", TypeError, r"score_boundary must be True or False, got 'yes'"),
]


@pytest.fixture(scope="module")
def decoder(labels, arpa_path, unigrams) -> LMDecoder:
    return LMDecoder(labels, arpa_path, unigrams, alpha=0.5, beta=1.0, beam_width=8)


@pytest.mark.parametrize("bad", BAD_OPTIONS, ids=lambda bad: f"{bad[0]}={bad[1]!r}")
def test_bad_search_settings_are_named_at_every_entry_point(decoder, labels, arpa_path, unigrams, bad):
    name, value, error, message = bad
    log_probs = spell("the cat", labels)
    with pytest.raises(error, match=message):
        LMDecoder(labels, arpa_path, unigrams, **{name: value})
    with pytest.raises(error, match=message):
        decoder.decode(log_probs, **{name: value})
    with pytest.raises(error, match=message):
        decoder.decode_batch([log_probs, log_probs], num_processes=2, **{name: value})
    with pytest.raises(error, match=message):
        decoder.set_params(**{name: value})
    with pytest.raises(error, match=message):
        tune_alpha_beta(decoder, [log_probs], ["the cat"], alphas=[0.5], betas=[1.0], progress=False, **{name: value})
    assert decoder.search["beam_width"] == 8  # a refused value changes nothing


@pytest.mark.parametrize("name, value, error, message", BAD_LM_PARAMS)
def test_bad_lm_params_are_named(decoder, labels, arpa_path, unigrams, name, value, error, message):
    with pytest.raises(error, match=message):
        LMDecoder(labels, arpa_path, unigrams, **{name: value})
    with pytest.raises(error, match=message):
        decoder.set_params(**{name: value})
    assert decoder.lm_params["alpha"] == 0.5


def test_good_values_come_back_as_plain_python_values():
    assert check_lm_params(alpha=np.float32(0.5), beta=2, score_boundary=np.bool_(True)) == {
        "alpha": 0.5,
        "beta": 2.0,
        "score_boundary": True,
    }
    assert check_search_settings(beam_width=np.int64(4), beam_prune_logp=0) == {"beam_width": 4, "beam_prune_logp": 0.0}
    with pytest.raises(TypeError, match=r"unknown decoder setting\(s\) \['beam'\]"):
        check_search_settings(beam=3)


def test_unknown_decoding_option_is_named(decoder, labels):
    with pytest.raises(TypeError, match=r"unknown decoding option\(s\) \['hotword'\]"):
        decoder.decode(spell("the cat", labels), hotword=["cat"])


def test_a_hotword_string_is_one_phrase(decoder, labels):
    log_probs = np.concatenate([spell("the ", labels), ambiguous("mat", "hat", labels)])
    boosted = decoder.decode(log_probs, hotwords=["hat"], hotword_weight=20.0)
    assert boosted != decoder.decode(log_probs)  # the list form does act ...
    assert decoder.decode(log_probs, hotwords="hat", hotword_weight=20.0) == boosted  # ... and so does a str
    assert check_hotwords("new york") == ["new york"]  # one phrase, not its characters or words
    assert check_hotwords("  ") is None and check_hotwords(()) is None
    with pytest.raises(TypeError, match=r"hotwords\[1\] must be a str, got int 3"):
        decoder.decode(log_probs, hotwords=["hat", 3])
    with pytest.raises(TypeError, match="hotwords must be a str or a list of str, got bytes"):
        decoder.decode(log_probs, hotwords=b"hat")


def test_prune_history_must_be_a_flag(decoder, labels):
    with pytest.raises(TypeError, match="prune_history must be True or False, got 'no'"):
        decoder.decode(spell("the cat", labels), prune_history="no")


@pytest.mark.parametrize(
    "alphas, betas, error, message",
    [
        ([], [0.0], ValueError, "alphas is empty; give at least one value"),
        ([0.5], (), ValueError, "betas is empty; give at least one value"),
        ([0.5, float("nan")], [0.0], ValueError, r"alphas\[1\] must be a finite number, got nan"),
        ([0.5], ["1"], TypeError, r"betas\[0\] must be a finite number, got '1'"),
        ("0.5", [0.0], TypeError, "alphas must be a list of numbers, got str '0.5'"),
    ],
)
def test_tuning_grids_are_checked(decoder, labels, alphas, betas, error, message):
    with pytest.raises(error, match=message):
        tune_alpha_beta(decoder, [spell("the cat", labels)], ["the cat"], alphas=alphas, betas=betas, progress=False)
    assert check_grid("alphas", (1, 2.5)) == [1.0, 2.5]


def test_tuning_refuses_a_non_string_reference(decoder, labels):
    with pytest.raises(TypeError, match=r"references\[1\] must be a str, got NoneType"):
        tune_alpha_beta(decoder, [spell("a", labels)] * 2, ["a", None], alphas=[0.5], betas=[0.0], progress=False)


@pytest.mark.parametrize("num_processes", [0, -1, "2"])
def test_num_processes_is_checked(decoder, labels, num_processes):
    error = TypeError if isinstance(num_processes, str) else ValueError
    with pytest.raises(error, match="num_processes must be"):
        decoder.decode_batch([spell("the cat", labels)] * 2, num_processes=num_processes)


def test_saved_nan_options_are_refused_naming_the_file(decoder, tmp_path):
    decoder.save_pretrained(tmp_path)
    attrs = tmp_path / LM_DIR / "attrs.json"
    attrs.write_text(json.dumps({**json.loads(attrs.read_text()), "alpha": float("nan")}))  # json writes NaN
    with pytest.raises(ValueError, match=f"LM decoder file {attrs}: alpha must be a finite number, got nan"):
        LMDecoder.from_pretrained(tmp_path)
    decoder.save_pretrained(tmp_path)
    (tmp_path / SEARCH_CONFIG_FILE).write_text(json.dumps({"beam_width": 0}))
    with pytest.raises(ValueError, match=f"{tmp_path / SEARCH_CONFIG_FILE}: beam_width must be a whole number >= 1"):
        LMDecoder.from_pretrained(tmp_path)
    (tmp_path / SEARCH_CONFIG_FILE).write_text("[1, 2]")
    with pytest.raises(ValueError, match=f"{tmp_path / SEARCH_CONFIG_FILE} must hold a JSON object, got list"):
        LMDecoder.from_pretrained(tmp_path)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["build-lm", "--text", "t.txt", "--out", "lm", "--alpha", "nan"], "argument --alpha: alpha must be a finite"),
        (["build-lm", "--text", "t.txt", "--out", "lm", "--beta", "inf"], "argument --beta: beta must be a finite"),
        (["build-lm", "--text", "t.txt", "--out", "lm", "--alpha", "high"], "alpha must be a number, got 'high'"),
        (["build-lm", "--text", "t.txt", "--out", "lm", "--order", "0"], "order must be a whole number >= 1, got 0"),
        (["tune-lm", "--model", "m", "--dataset", "d", "--alphas", "0.5", "nan"], "alpha must be a finite number"),
        (["tune-lm", "--model", "m", "--dataset", "d", "--beam-width", "0"], "beam_width must be a whole number"),
        (["tune-lm", "--model", "m", "--dataset", "d", "--num-processes", "-2"], "num_processes must be a whole"),
        (["tune-lm", "--model", "m", "--dataset", "d", "--max-utterances", "0"], "max_utterances must be a whole"),
        (["transcribe", "a.wav", "--model", "m", "--batch-size", "0"], "batch_size must be a whole number >= 1"),
        (["transcribe", "a.wav", "--model", "m", "--chunk-length-s", "-5"], "chunk_length_s must be a number >= 0"),
    ],
)
def test_cli_refuses_bad_option_values_before_doing_anything(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no LM built, nothing written


@pytest.mark.parametrize(
    "labels, unigrams, error, message",
    [
        ("abc", None, TypeError, "labels must be a list of str, got str 'abc'"),
        ([], None, ValueError, "labels is empty"),
        (["", "a", 1], None, TypeError, r"labels\[2\] must be a str, got int 1"),
        (["", "a", "b", "a"], None, ValueError, r"labels\[3\] = 'a' repeats labels\[1\]"),
        (["a", "b", " "], None, ValueError, "labels have no CTC blank"),
        (None, None, TypeError, "labels must be a list of str, got NoneType"),
        (["", " ", "a"], "the cat", TypeError, "unigrams must be a list of str, got str 'the cat'"),
        (["", " ", "a"], ["the", 3], TypeError, r"unigrams\[1\] must be a str, got int 3"),
    ],
)
def test_bad_labels_and_unigrams_are_named(arpa_path, labels, unigrams, error, message):
    with pytest.raises(error, match=message):
        LMDecoder(labels, arpa_path if unigrams is not None else None, unigrams)


def test_a_kenlm_path_that_is_not_a_path_is_named(labels):
    with pytest.raises(TypeError, match="kenlm_path must be a path or None, got int 3"):
        LMDecoder(labels, 3, ["the"])
