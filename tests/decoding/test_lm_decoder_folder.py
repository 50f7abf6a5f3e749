"""The decoder folder reader/writer and the pyctcdecode adapter, on their own."""

from __future__ import annotations

import json

import pytest

from hf_asr.decoding.lm_building import read_unigrams as reexported_read_unigrams
from hf_asr.modeling.lm_decoder_folder import (
    ALPHABET_FILE,
    LM_DIR,
    find_saved_decoder,
    read_decoder_folder,
    read_unigrams,
    write_decoder_folder,
    write_decoder_params,
)
from hf_asr.modeling.pyctcdecode_adapter import PyctcdecodeBeamSearch

LM_PARAMS = {"alpha": 0.7, "beta": 0.3, "unk_score_offset": -10.0, "score_boundary": True}


@pytest.fixture()
def folder(tmp_path, labels, arpa_path, unigrams):
    alphabet = PyctcdecodeBeamSearch(labels, None, []).alphabet_json()
    saved = write_decoder_folder(
        tmp_path, alphabet_json=alphabet, kenlm_path=arpa_path, unigrams=unigrams, lm_params=LM_PARAMS,
        search={"beam_width": 7},
    )  # fmt: skip
    assert saved == tmp_path / LM_DIR / "lm.arpa"
    return tmp_path


def test_written_folder_reads_back(folder, labels, unigrams):
    read_labels, kenlm_path, words, lm_params, search, tables = read_decoder_folder(folder)
    assert tables is None  # written without n-gram tables
    assert read_labels == labels and kenlm_path == folder / LM_DIR / "lm.arpa"
    assert words == sorted(unigrams) and lm_params == LM_PARAMS and search == {"beam_width": 7}
    assert find_saved_decoder(folder) == folder and find_saved_decoder(folder / LM_DIR) is None


def test_params_are_rewritten_alone(folder, tmp_path):
    write_decoder_params(folder, {**LM_PARAMS, "alpha": 2.0}, {"beam_width": 3})
    assert read_decoder_folder(folder).lm_params["alpha"] == 2.0
    assert read_decoder_folder(folder).search == {"beam_width": 3}
    with pytest.raises(FileNotFoundError, match=LM_DIR):
        write_decoder_params(tmp_path / "elsewhere", LM_PARAMS, {})


def test_malformed_files_are_named(folder):
    (folder / ALPHABET_FILE).write_text(json.dumps({"labels": ["a"]}))
    with pytest.raises(ValueError, match="alphabet.json has keys"):
        read_decoder_folder(folder)
    (folder / ALPHABET_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="alphabet.json is not valid JSON"):
        read_decoder_folder(folder)


def test_read_unigrams_drops_blanks_and_white_space(tmp_path):
    path = tmp_path / "unigrams.txt"
    path.write_text("the\r\n\n cat \nsat\n", encoding="utf-8")
    assert read_unigrams(path) == reexported_read_unigrams(path) == ["the", "cat", "sat"]
    with pytest.raises(FileNotFoundError):
        read_unigrams(tmp_path / "missing.txt")


def test_adapter_exposes_labels_and_lm_params(labels, arpa_path, unigrams):
    search = PyctcdecodeBeamSearch(labels, arpa_path, unigrams, **LM_PARAMS)
    assert search.labels == labels and search.lm_params == LM_PARAMS
    search.reset_lm_params(alpha=1.5)
    assert search.lm_params["alpha"] == 1.5
    assert json.loads(search.alphabet_json()) == {"labels": labels, "is_bpe": False}
    with pytest.raises(ValueError, match="no language model"):
        PyctcdecodeBeamSearch(labels, None, []).reset_lm_params(alpha=1.0)


def test_lm_param_names_are_pyctcdecode_s():
    from pyctcdecode import LanguageModel

    from hf_asr.modeling.decoder_options import LM_PARAM_NAMES

    assert tuple(LanguageModel.JSON_ATTRS) == LM_PARAM_NAMES
