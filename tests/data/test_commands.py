import argparse
import json

import datasets
import numpy as np
import pytest

from hf_asr.data.commands import register
from hf_asr.data.tts import bytes_of_wav


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hf-asr")
    register(parser.add_subparsers(dest="command"))
    return parser


def test_make_corpus_command_builds_a_corpus(parser, tmp_path, sentence_file, capsys):
    out = tmp_path / "corpus"
    args = parser.parse_args(
        ["make-corpus", "--out", str(out), "--num-sentences", "3", "--voices-per-sentence", "1", "--seed", "2",
         "--sentences", str(sentence_file), "--noise-snr-db", "30", "--num-workers", "1", "--engines", "espeak-ng"]
    )  # fmt: skip
    assert args.run(args) == 0
    info = json.loads((out / "corpus_info.json").read_text())
    assert sum(info["splits"].values()) == 3 and info["noise_snr_db"] == 30.0
    assert "utterances/s" in capsys.readouterr().out


def test_build_vocab_command_writes_tokenizer_and_reports_unknown_characters(parser, tmp_path, capsys):
    audio = {"bytes": bytes_of_wav(np.zeros(1600, dtype=np.float32)), "path": "x.wav"}
    corpus = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"audio": [audio] * 2, "text": ["abc cab", "bad"]}),
            "test": datasets.Dataset.from_dict({"audio": [audio] * 2, "text": ["abz", "zz\u00e9"]}),
        }
    ).cast_column("audio", datasets.Audio(sampling_rate=16_000))
    corpus.save_to_disk(str(tmp_path / "corpus"))
    args = parser.parse_args(["build-vocab", "--corpus", str(tmp_path / "corpus"), "--out", str(tmp_path / "tok")])
    assert args.run(args) == 0
    vocab = json.loads((tmp_path / "tok" / "vocab.json").read_text())
    assert vocab == {"<pad>": 0, "<unk>": 1, "|": 2, "a": 3, "b": 4, "c": 5, "d": 6}
    out = capsys.readouterr().out
    assert "7 tokens" in out
    assert "test: characters that would become <unk>: 'z' x3, 'é' x1" in out
