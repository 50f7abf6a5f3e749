"""Audio cells of every form, raw sample columns and truncated wav files: defined behaviour or named errors."""

import datasets
import numpy as np
import pytest

from hf_asr import LogMelFeatureExtractor
from hf_asr.data.audio import (
    AudioReadError,
    TruncatedAudioWarning,
    audio_array,
    audio_column_problem,
    decode_with_datasets,
    read_audio,
)
from hf_asr.data.features import prepare_dataset
from hf_asr.data.loading import CorpusError, load_corpus
from hf_asr.data.tts import bytes_of_wav


def _tone(num_samples: int) -> np.ndarray:
    return (0.3 * np.sin(np.arange(num_samples) / 5.0)).astype(np.float32)


def test_raw_sample_lists_in_a_saved_corpus_name_the_column_and_the_cast(tmp_path):
    corpus = datasets.Dataset.from_dict({"speech": [_tone(1600).tolist()], "text": ["ab"]})
    corpus.save_to_disk(str(tmp_path / "corpus"))
    with pytest.raises(CorpusError, match=r"column .speech. of .*corpus holds raw samples .*cast_column"):
        load_corpus(tmp_path / "corpus", audio_column="speech")


def test_a_column_of_numbers_is_not_audio(tmp_path):
    corpus = datasets.Dataset.from_dict({"audio": [1, 2], "text": ["a", "b"]})
    corpus.save_to_disk(str(tmp_path / "corpus"))
    with pytest.raises(CorpusError, match=r"column 'audio' of .* holds Value\('int64'\), not audio"):
        load_corpus(tmp_path / "corpus")


def test_castable_columns_have_no_problem():
    assert audio_column_problem(datasets.Audio()) is None
    assert audio_column_problem(datasets.Value("string")) is None
    assert audio_column_problem({"array": datasets.List(datasets.Value("float32")), "sampling_rate": 1}) is None


def test_prepare_dataset_takes_raw_samples_at_the_extractor_rate():
    corpus = datasets.Dataset.from_dict({"audio": [_tone(1600).tolist(), _tone(800)], "text": ["a", "b"]})
    prepared = prepare_dataset(corpus, LogMelFeatureExtractor())
    assert prepared["duration"] == [0.1, 0.05]


def test_prepare_dataset_names_the_sample_whose_audio_is_not_audio():
    corpus = datasets.Dataset.from_dict({"audio": [{"array": [0.1] * 800, "sampling_rate": 16_000}, {"array": None}]})
    with pytest.raises(AudioReadError, match=r"sample 1 in column 'audio' has no \['array', 'sampling_rate'\]"):
        prepare_dataset(corpus, LogMelFeatureExtractor())


@pytest.mark.parametrize("cell", [{"array": [0.0, 1.0]}, [["ragged"], [1.0, 2.0]], object()])
def test_audio_array_names_what_a_bad_cell_holds(cell):
    with pytest.raises(AudioReadError, match="the audio cell of sample 3 (holds|has no)"):
        audio_array(cell, where="sample 3")


def test_audio_array_reads_a_path_and_names_a_missing_one(tmp_path):
    with pytest.raises(AudioReadError, match="cannot read audio 'no.wav' of sample 3"):
        audio_array("no.wav", where="sample 3")
    path = tmp_path / "a.wav"
    path.write_bytes(bytes_of_wav(_tone(800), 8000))
    samples, rate = audio_array(str(path))
    assert rate == 8000 and samples.shape == (800,)


def _truncated_wav(num_samples: int, kept: int) -> bytes:
    whole = bytes_of_wav(_tone(num_samples), 16_000)
    return whole[: 44 + 2 * kept]  # 44-byte header, 2 bytes per 16-bit sample


def test_truncated_wav_file_warns_with_promised_and_read_samples(tmp_path):
    path = tmp_path / "cut.wav"
    path.write_bytes(_truncated_wav(16_000, 5_000))
    with pytest.warns(TruncatedAudioWarning, match=r"cut\.wav: the wav header promises 16000 samples .* only 5000"):
        samples, _ = read_audio(path)
    assert len(samples) == 5_000


def test_truncated_wav_bytes_and_datasets_cells_warn():
    data = _truncated_wav(8_000, 100)
    with pytest.warns(TruncatedAudioWarning, match="<audio bytes>: .*promises 8000 samples .* only 100"):
        read_audio(data)
    with pytest.warns(TruncatedAudioWarning, match="'cut.wav' in corpus x: .*promises 8000"):
        decode_with_datasets({"bytes": data, "path": "cut.wav"}, datasets.Audio(sampling_rate=16_000), "corpus x")


def test_truncated_wav_in_a_datasets_audio_column_warns():
    corpus = datasets.Dataset.from_dict({"audio": [{"bytes": _truncated_wav(8_000, 100), "path": "cut.wav"}]})
    cell = corpus.cast_column("audio", datasets.Audio())[0]["audio"]  # a torchcodec AudioDecoder
    with pytest.warns(TruncatedAudioWarning, match="'cut.wav' of sample 0: .*promises 8000 samples .* only 100"):
        audio_array(cell, where="sample 0")


def test_whole_wav_reads_without_a_warning(tmp_path, recwarn):
    read_audio(bytes_of_wav(_tone(1000), 16_000))
    assert not [w for w in recwarn if issubclass(w.category, TruncatedAudioWarning)]


def _stereo_wav(rate: int) -> bytes:
    import io

    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.stack([_tone(800), -0.5 * _tone(800)], axis=1), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.mark.parametrize("data", [bytes_of_wav(_tone(1600), 16_000), _stereo_wav(16_000)], ids=["mono", "stereo"])
def test_wav_cells_decode_to_torchcodecs_samples_without_it(data, monkeypatch):
    cell = {"bytes": data, "path": "a.wav"}
    feature = datasets.Audio(sampling_rate=16_000)
    expected = feature.decode_example(cell).get_all_samples()
    monkeypatch.setattr(datasets.Audio, "decode_example", lambda *a, **k: pytest.fail("torchcodec decoded a wav"))
    samples, rate = decode_with_datasets(cell, feature, "corpus x")
    assert rate == 16_000 and samples.dtype == np.float32
    np.testing.assert_allclose(samples, expected.data.numpy().mean(0), atol=1e-6)


@pytest.mark.parametrize(
    ("data", "feature", "length"),
    [
        (bytes_of_wav(_tone(800), 8_000), datasets.Audio(sampling_rate=16_000), 1600),  # resampled
        (_stereo_wav(16_000), datasets.Audio(sampling_rate=16_000, num_channels=1), 800),  # downmixed by FFmpeg
    ],
    ids=["resampled", "downmixed"],
)
def test_wav_cells_that_need_resampling_or_downmixing_go_through_torchcodec(data, feature, length, monkeypatch):
    calls = []
    original = datasets.Audio.decode_example
    monkeypatch.setattr(datasets.Audio, "decode_example", lambda *a, **k: calls.append(1) or original(*a, **k))
    samples, rate = decode_with_datasets({"bytes": data, "path": "a.wav"}, feature, "corpus x")
    assert calls == [1] and rate == 16_000 and abs(len(samples) - length) <= 20


def test_prepare_dataset_resamples_a_decoded_audio_column_as_its_feature_says():
    corpus = datasets.Dataset.from_dict(
        {"audio": [{"bytes": bytes_of_wav(_tone(8_000), 8_000), "path": "a.wav"}], "text": ["ab"]}
    ).cast_column("audio", datasets.Audio(sampling_rate=16_000))
    prepared = prepare_dataset(corpus, LogMelFeatureExtractor())
    assert prepared["duration"] == [pytest.approx(1.0, abs=0.01)]


def test_prepare_dataset_names_the_sample_whose_audio_cannot_be_decoded():
    corpus = datasets.Dataset.from_dict(
        {"audio": [{"bytes": bytes_of_wav(_tone(800), 16_000), "path": "a.wav"}, {"bytes": b"junk", "path": "b.wav"}]}
    ).cast_column("audio", datasets.Audio(sampling_rate=16_000))
    with pytest.raises(AudioReadError, match=r"cannot decode audio 'b.wav' in sample 1 in column 'audio'"):
        prepare_dataset(corpus, LogMelFeatureExtractor())
