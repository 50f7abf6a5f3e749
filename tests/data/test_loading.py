import sys

import datasets
import numpy as np
import pytest

from hf_asr.data.loading import AudioDecodingError, CorpusError, load_corpus
from hf_asr.data.tts import bytes_of_wav


def _tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


@pytest.fixture
def audiofolder(tmp_path):
    """An audiofolder with one good 22.05 kHz file and one corrupt file."""
    (tmp_path / "good.wav").write_bytes(bytes_of_wav(_tone(1.0, 22_050), 22_050))
    (tmp_path / "broken.wav").write_bytes(b"RIFF" + bytes(64))
    (tmp_path / "metadata.csv").write_text("file_name,transcription\ngood.wav,hello there\nbroken.wav,oh no\n")
    return tmp_path


def test_saved_corpus_loads_with_decoded_mono_16khz_audio(tiny_corpus_dir):
    corpus = load_corpus(tiny_corpus_dir)
    assert set(corpus) == {"train", "validation", "test"}
    example = corpus["train"][0]
    audio = example["audio"]
    assert audio["sampling_rate"] == 16_000 and audio["array"].dtype == np.float32 and audio["array"].ndim == 1
    assert abs(len(audio["array"]) / 16_000 - example["duration"]) < 1e-3
    assert np.abs(audio["array"]).max() > 0.05
    # Text alone reads without decoding any audio (select_columns keeps the audio out of the transform).
    assert corpus["train"].select_columns(["text"])["text"][:1] == [example["text"]]


def test_resampling_and_split_selection(tiny_corpus_dir):
    native = load_corpus(tiny_corpus_dir, split="test")[0]["audio"]
    half = load_corpus(tiny_corpus_dir, split="test", sampling_rate=8_000)[0]["audio"]
    assert half["sampling_rate"] == 8_000
    assert abs(len(half["array"]) - len(native["array"]) / 2) <= 2
    with pytest.raises(CorpusError, match=r"no split 'dev'.*\['train', 'validation', 'test'\]"):
        load_corpus(tiny_corpus_dir, split="dev")


def test_sampling_rate_mismatch_without_resampling_names_file_and_rates(tiny_corpus_dir):
    corpus = load_corpus(tiny_corpus_dir, split="test", sampling_rate=8_000, resample=False)
    with pytest.raises(CorpusError, match=r"\.wav' .* sampled at 16000 Hz, not 8000 Hz"):
        corpus[0]


def test_streaming_decodes_lazily(tiny_corpus_dir):
    stream = load_corpus(tiny_corpus_dir, split="validation", streaming=True)
    assert isinstance(stream, datasets.IterableDataset)
    examples = list(stream)
    assert len(examples) == 2 and all(e["audio"]["sampling_rate"] == 16_000 for e in examples)


def test_missing_column_lists_existing_columns(tiny_corpus_dir, audiofolder):
    with pytest.raises(CorpusError, match=r"no column\(s\) \['sentence'\].*'text', 'speaker'"):
        load_corpus(tiny_corpus_dir, text_column="sentence")
    with pytest.raises(CorpusError, match=r"\['text'\].*\['audio', 'transcription'\]"):
        load_corpus(audiofolder, split="train")


def test_audiofolder_resamples_and_names_the_unreadable_file(audiofolder):
    corpus = load_corpus(audiofolder, split="train", text_column="transcription")
    by_text = {t: i for i, t in enumerate(corpus.select_columns(["transcription"])["transcription"])}
    good = corpus[by_text["hello there"]]["audio"]
    assert good["sampling_rate"] == 16_000 and abs(len(good["array"]) - 16_000) <= 2
    with pytest.raises(AudioDecodingError, match="broken.wav"):
        corpus[by_text["oh no"]]


def test_missing_audio_backend_names_debian_packages(tiny_corpus_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchcodec.decoders", None)  # import now raises ImportError
    with pytest.raises(RuntimeError, match="libavcodec59 libavformat59 libavutil57 libswresample4"):
        load_corpus(tiny_corpus_dir)


def test_unknown_source_is_reported(tmp_path):
    with pytest.raises(CorpusError, match="not a local folder"):
        load_corpus(tmp_path / "missing")


@pytest.mark.parametrize("content", [None, "notes.txt"])
def test_a_folder_without_audio_or_a_saved_dataset_is_named(tmp_path, content):
    folder = tmp_path / "my_corpus"
    folder.mkdir()
    if content:
        (folder / content).write_text("not audio")
    with pytest.raises(CorpusError, match=r"my_corpus is a folder but not a corpus"):
        load_corpus(folder)


def test_a_hub_config_goes_to_load_dataset_and_is_refused_for_a_local_corpus(tiny_corpus_dir, monkeypatch):
    calls = []

    def fake_load_dataset(name, config=None, **kwargs):
        calls.append((name, config, kwargs))
        audio = {"bytes": bytes_of_wav(np.zeros(1600, dtype=np.float32)), "path": "a.wav"}
        return datasets.Dataset.from_dict({"audio": [audio]}).cast_column("audio", datasets.Audio())

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    load_corpus("someone/speech", config="de", split="train", text_column=None, audio_column="audio")
    assert calls[0][:2] == ("someone/speech", "de") and calls[0][2]["split"] == "train"
    with pytest.raises(CorpusError, match=f"{tiny_corpus_dir} is a local corpus .*config='de'"):
        load_corpus(tiny_corpus_dir, config="de")
