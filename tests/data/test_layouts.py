"""Corpus layouts on disk (LibriSpeech, Common Voice, NeMo manifests, SpeechBrain CSVs), each written here in
miniature, read by `load_corpus`: the layout found, its splits, one row's text and decoded audio, and bad inputs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from hf_asr.data.corpus_errors import CorpusError, DroppedRowsWarning
from hf_asr.data.layout_readers import split_names
from hf_asr.data.layouts import LAYOUTS, detect_layout
from hf_asr.data.loading import load_corpus

from .layout_corpora import RATE, make_common_voice, make_librispeech, make_nemo, make_speechbrain


def _sizes(corpus) -> dict[str, int]:
    return {name: len(split) for name, split in corpus.items()}


def _row(split, column: str, value):
    """The row of `split` whose `column` is `value` (the column read without decoding any audio)."""
    return split[split.select_columns([column])[column].index(value)]


def test_librispeech_tree_gives_one_split_per_top_folder(tmp_path, caplog):
    written = make_librispeech(tmp_path)
    root = tmp_path / "LibriSpeech"
    assert detect_layout(root) == "librispeech"
    with caplog.at_level(logging.INFO, logger="hf_asr.data.loading"):
        corpus = load_corpus(root)
    assert _sizes(corpus) == {"dev-clean": 1, "train-clean-100": 3}
    assert "found a LibriSpeech tree: splits dev-clean (1 utterance), train-clean-100 (3 utterances)" in caplog.text
    row = _row(corpus["train-clean-100"], "id", "103-1240-0001")
    assert row["text"] == "MISSUS RACHEL LYNDE" and (row["speaker_id"], row["chapter_id"]) == (103, 1240)
    assert row["audio"]["sampling_rate"] == RATE
    np.testing.assert_allclose(row["audio"]["array"], written["103-1240-0001"], atol=1e-3)


def test_a_librispeech_split_tree_alone_is_the_train_split(tmp_path):
    make_librispeech(tmp_path)
    corpus = load_corpus(tmp_path / "LibriSpeech" / "train-clean-100")
    assert _sizes(corpus) == {"train": 3}
    assert sorted(corpus["train"].select_columns(["speaker_id"])["speaker_id"]) == [19, 103, 103]


def test_common_voice_reads_train_dev_test_only(tmp_path):
    folder = make_common_voice(tmp_path / "cv-corpus-en")
    assert detect_layout(folder) == "common_voice"
    corpus = load_corpus(folder)
    assert _sizes(corpus) == {"train": 2, "validation": 1, "test": 1}  # validated.tsv is no split
    assert {"client_id", "up_votes", "locale", "text", "audio"} <= set(corpus["train"].column_names)
    row = corpus["test"][0]
    assert row["text"] == '"yes" she said'  # quotes are part of the sentence (QUOTE_NONE)
    assert row["client_id"] == "client0" and row["audio"]["path"].endswith("clips/common_voice_en_test_0.wav")
    assert len(row["audio"]["array"]) == int(1.0 * RATE)


def test_common_voice_rows_without_a_sentence_are_dropped_with_a_warning(tmp_path):
    folder = make_common_voice(tmp_path / "cv", train_sentences=("one", "", "three", " "))
    with pytest.warns(DroppedRowsWarning, match=r"train\.tsv: left out 2 of 4 rows whose 'sentence' is empty"):
        corpus = load_corpus(folder, split="train")
    assert corpus.select_columns(["text"])["text"] == ["one", "three"]


def test_nemo_manifests_split_by_name_with_paths_relative_to_the_manifest(tmp_path, monkeypatch):
    folder = make_nemo(tmp_path / "nemo")
    monkeypatch.chdir(tmp_path)  # relative paths are the manifest's, not the working directory's
    assert detect_layout(folder) == "nemo"
    corpus = load_corpus(folder)
    assert _sizes(corpus) == {"validation": 1, "train": 3}
    row = _row(corpus["train"], "text", "four five six")
    assert abs(row["duration"] - 1.2) < 1e-3 and len(row["audio"]["array"]) == int(1.2 * RATE)
    single = load_corpus(folder / "train_manifest.json")  # one manifest: its rows are "train"
    assert _sizes(single) == {"train": 3} and detect_layout(folder / "train_manifest.json") == "nemo"


def test_a_malformed_manifest_line_is_named(tmp_path):
    folder = make_nemo(tmp_path / "nemo")
    manifest = folder / "train_manifest.json"
    lines = manifest.read_text().splitlines()
    manifest.write_text("\n".join([lines[0], lines[1][:-3], lines[2]]) + "\n")
    with pytest.raises(CorpusError, match=r"train_manifest\.json, line 2 is not JSON"):
        load_corpus(folder)
    manifest.write_text(lines[0] + "\n" + json.dumps({"audio_filepath": "audio/train_0.wav"}) + "\n")
    with pytest.raises(CorpusError, match=r'train_manifest\.json, line 2 has no "text"'):
        load_corpus(manifest)


def test_speechbrain_csvs_substitute_data_root(tmp_path):
    folder = make_speechbrain(tmp_path / "sb")
    assert detect_layout(folder) == "speechbrain"
    corpus = load_corpus(folder)
    assert _sizes(corpus) == {"train": 2, "validation": 1}
    row = _row(corpus["train"], "ID", "u2")
    assert row["text"] == "a dog" and row["spk_id"] == "spk2" and abs(row["duration"] - 1.0) < 1e-3
    assert row["audio"]["path"] == str(folder / "wavs" / "u2.wav") and len(row["audio"]["array"]) == int(1.0 * RATE)
    assert corpus["validation"][0]["audio"]["path"] == str(folder / "wavs" / "u3.wav")


@pytest.mark.parametrize("layout", ["librispeech", "common_voice", "nemo", "speechbrain"])
def test_missing_audio_files_are_counted_and_the_first_named(tmp_path, layout):
    if layout == "librispeech":
        make_librispeech(tmp_path)
        folder, gone = tmp_path / "LibriSpeech", ["train-clean-100/103/1240/103-1240-0000.flac"]
        gone.append("train-clean-100/19/198/19-198-0000.flac")
    else:
        folder = {"common_voice": make_common_voice, "nemo": make_nemo, "speechbrain": make_speechbrain}[layout](
            tmp_path / layout
        )
        gone = {
            "common_voice": ["clips/common_voice_en_train_0.wav", "clips/common_voice_en_train_1.wav"],
            "nemo": ["audio/train_0.wav", "audio/train_2.wav"],
            "speechbrain": ["wavs/u1.wav", "wavs/u2.wav"],
        }[layout]
    for name in gone:
        (folder / name).unlink()
    with pytest.raises(CorpusError, match=r"2 of the \d audio files listed in .* are missing, the first: ") as error:
        load_corpus(folder)
    assert str(folder / gone[0]) in str(error.value) or str(folder / gone[1]) in str(error.value)


def test_split_names_follow_the_file_names():
    paths = [Path(name) for name in ("train_manifest.json", "dev_manifest.json", "test.json")]
    assert split_names(paths) == dict(zip(["train", "validation", "test"], paths))
    two_devs = [Path(name) for name in ("train-clean-100.csv", "dev-clean.csv", "dev-other.csv")]
    assert list(split_names(two_devs)) == ["train", "dev-clean", "dev-other"]  # no guess which is "validation"
    assert list(split_names([Path("all_speech.jsonl")])) == ["train"]
    with pytest.raises(CorpusError, match="would both be split 'train'"):
        split_names([Path("train.json"), Path("train.jsonl"), Path("a.json")])


def test_unknown_or_mixed_folders_list_the_layouts_looked_for(tmp_path):
    empty = tmp_path / "notes"
    empty.mkdir()
    (empty / "readme.txt").write_text("no audio here")
    with pytest.raises(CorpusError, match="notes is a folder but not a corpus") as error:
        detect_layout(empty)
    for layout in ("librispeech", "common_voice", "nemo", "speechbrain", "audiofolder"):
        assert LAYOUTS[layout].split(" (")[0] in str(error.value)
    mixed = make_speechbrain(make_nemo(tmp_path / "mixed"))
    with pytest.raises(CorpusError, match="more than one corpus layout: NeMo manifests.*; SpeechBrain CSVs"):
        load_corpus(mixed)
    with pytest.raises(CorpusError, match="readme.txt is a file but neither a NeMo manifest nor a SpeechBrain CSV"):
        load_corpus(empty / "readme.txt")
