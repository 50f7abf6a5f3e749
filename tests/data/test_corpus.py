import collections

import datasets
import numpy as np
import pytest

from hf_asr.data import corpus as corpus_module
from hf_asr.data.corpus import build_corpus, split_by_sentence
from hf_asr.data.tts import ESPEAK

from .conftest import SENTENCES


def test_splits_are_by_sentence_with_every_voice_set_complete(tiny_corpus_dir):
    corpus = datasets.load_from_disk(str(tiny_corpus_dir))
    assert list(corpus) == ["train", "validation", "test"]
    ids = {name: set(split["sentence_id"]) for name, split in corpus.items()}
    texts = {name: set(split["text"]) for name, split in corpus.items()}
    for a, b in [("train", "validation"), ("train", "test"), ("validation", "test")]:
        assert not ids[a] & ids[b]
    assert not texts["train"] & texts["test"] and not texts["train"] & texts["validation"]
    assert set().union(*texts.values()) == set(SENTENCES)
    assert [len(ids[s]) for s in ("train", "validation", "test")] == [6, 1, 1]
    for split in corpus.values():
        voices = collections.defaultdict(set)
        for sentence_id, speaker in zip(split["sentence_id"], split["speaker"]):
            voices[sentence_id].add(speaker)
        assert all(len(v) == 2 for v in voices.values())  # 2 distinct voices per sentence
    speakers = set().union(*(set(split["speaker"]) for split in corpus.values()))
    assert {s.split(":")[0] for s in speakers} == {"espeak-ng", "flite"}


def test_corpus_round_trips_and_decodes_at_16khz(tiny_corpus_dir):
    corpus = datasets.load_from_disk(str(tiny_corpus_dir))
    assert corpus["train"].features["audio"].sampling_rate == 16_000
    for split in corpus.values():
        for example in split:
            audio = example["audio"]
            array = np.asarray(audio["array"]).reshape(-1)
            assert audio["sampling_rate"] == 16_000
            assert np.abs(array).max() > 0.05
            assert abs(len(array) / 16_000 - example["duration"]) < 1e-3
    assert (tiny_corpus_dir / "corpus_info.json").is_file()
    assert not [p for p in tiny_corpus_dir.parent.iterdir() if p.name.startswith(".")]  # no staging leftovers


def test_same_seed_same_corpus_and_existing_folder_protected(tmp_path, sentence_file):
    kwargs = dict(
        num_sentences=3, voices_per_sentence=1, seed=5, sentence_source=sentence_file, noise_snr_db=20.0,
        split_fractions=(1, 1, 1), num_workers=1, engines=[ESPEAK],
    )  # fmt: skip
    first = build_corpus(tmp_path / "a", **kwargs)
    second = build_corpus(tmp_path / "b", **kwargs)
    for name in first:
        a, b = first[name].cast_column("audio", datasets.Audio(decode=False)), second[name]
        b = b.cast_column("audio", datasets.Audio(decode=False))
        assert a["text"] == b["text"] and a["speaker"] == b["speaker"]
        assert [x["bytes"] for x in a["audio"]] == [x["bytes"] for x in b["audio"]]  # noise included
    with pytest.raises(FileExistsError, match="overwrite"):
        build_corpus(tmp_path / "a", **kwargs)
    other = build_corpus(tmp_path / "a", **{**kwargs, "seed": 6}, overwrite=True)
    assert other["train"]["speaker"] != first["train"]["speaker"] or other["train"]["text"] != first["train"]["text"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_failed_build_leaves_nothing_behind(tmp_path, sentence_file, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("synthesiser exploded")

    monkeypatch.setattr(corpus_module, "synthesize", broken)
    with pytest.raises(RuntimeError, match="exploded"):
        build_corpus(tmp_path / "c", 3, 1, sentence_source=sentence_file, num_workers=1, split_fractions=(1, 1, 1))
    assert list(tmp_path.iterdir()) == []


def test_zero_fraction_splits_are_left_out(tmp_path, sentence_file):
    corpus = build_corpus(
        tmp_path / "train_only", 3, 1, sentence_source=sentence_file, split_fractions=(1, 0, 0), num_workers=1
    )
    assert list(corpus) == ["train"] and len(corpus["train"]) == 3


def test_split_by_sentence_sizes():
    assert [len(r) for r in split_by_sentence(100, (0.8, 0.1, 0.1))] == [80, 10, 10]
    assert [len(r) for r in split_by_sentence(5, (0.8, 0.1, 0.1))] == [3, 1, 1]  # small splits never empty
    ranges = split_by_sentence(10, (1, 0, 0))
    assert [len(r) for r in ranges] == [10, 0, 0]
    assert sorted(i for r in split_by_sentence(37, (0.7, 0.2, 0.1)) for i in r) == list(range(37))
    with pytest.raises(ValueError, match="2 sentence"):
        split_by_sentence(2, (0.8, 0.1, 0.1))


@pytest.mark.parametrize(
    "options,message",
    [
        (dict(noise_snr_db=float("nan")), r"must be a finite number of dB, got nan"),
        (dict(num_sentences=0), r"num_sentences \(--num-sentences\) must be an integer >= 1, got 0"),
        (dict(num_workers=-1), r"num_workers \(--num-workers\) must be an integer >= 1, got -1"),
        (dict(num_voices=0), r"num_voices \(--num-voices\) must be an integer >= 1, got 0"),
        (dict(split_fractions=(0.8, float("nan"), 0.1)), r"split_fractions must be 3 finite non-negative .*nan"),
    ],
)
def test_options_that_cannot_make_a_corpus_are_refused_before_synthesis(tmp_path, sentence_file, options, message):
    settings = dict(num_sentences=3, voices_per_sentence=1, sentence_source=sentence_file, num_workers=1)
    with pytest.raises(ValueError, match=message):
        build_corpus(tmp_path / "corpus", **{**settings, **options})
    assert not any(tmp_path.iterdir())
