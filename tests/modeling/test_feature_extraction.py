import numpy as np
import pytest
import torch

from hf_asr import LogMelFeatureExtractor

from .helpers import random_waveforms


@pytest.fixture
def extractor():
    return LogMelFeatureExtractor()


def test_one_waveform_gives_time_major_features_and_mask(extractor):
    out = extractor(random_waveforms([16000])[0], sampling_rate=16000, return_tensors="pt")
    assert out["input_features"].shape == (1, 101, 80)
    assert out["attention_mask"].shape == (1, 101)
    assert out["attention_mask"].all()
    assert extractor.num_frames(16000) == 101


def test_padded_batch_equals_one_by_one_on_valid_frames(extractor):
    waves = random_waveforms([16000, 9001, 4000])
    batch = extractor(waves, sampling_rate=16000, return_tensors="pt")
    for i, wave in enumerate(waves):
        single = extractor(wave, sampling_rate=16000, return_tensors="pt")["input_features"][0]
        frames = single.shape[0]
        assert int(batch["attention_mask"][i].sum()) == frames
        torch.testing.assert_close(batch["input_features"][i, :frames], single, atol=1e-4, rtol=0)
        assert torch.all(batch["input_features"][i, frames:] == 0)


def test_normalisation_ignores_padding(extractor):
    waves = random_waveforms([16000, 3000])
    feats = extractor(waves, sampling_rate=16000, return_tensors="pt")
    valid = feats["input_features"][1, : extractor.num_frames(3000)]
    torch.testing.assert_close(valid.mean(0), torch.zeros(80), atol=1e-4, rtol=0)
    torch.testing.assert_close(valid.std(0, unbiased=False), torch.ones(80), atol=1e-2, rtol=0)


def test_missing_sampling_rate_is_an_error(extractor):
    with pytest.raises(ValueError, match="needs sampling_rate"):
        extractor(random_waveforms([1600])[0])


def test_wrong_sampling_rate_is_an_error_unless_resampling_is_asked(extractor):
    wave = random_waveforms([8000])[0]
    with pytest.raises(ValueError, match="8000 Hz but .* expects 16000 Hz"):
        extractor(wave, sampling_rate=8000)
    out = extractor(wave, sampling_rate=8000, resample=True, return_tensors="pt")
    assert out["input_features"].shape[1] == extractor.num_frames(16000)


def test_empty_audio_names_the_utterance(extractor):
    with pytest.raises(ValueError, match="Utterance 1 is empty"):
        extractor([np.ones(100, np.float32), np.zeros(0, np.float32)], sampling_rate=16000)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_name_utterance_and_position(extractor, bad):
    wave = random_waveforms([1000])[0]
    wave[123] = bad
    with pytest.raises(ValueError, match="Utterance 0 has 1 non-finite samples .* at sample 123"):
        extractor(wave, sampling_rate=16000)


@pytest.mark.parametrize("shape", [(2, 8000), (8000, 2)])
def test_stereo_in_either_layout_is_rejected_or_downmixed(extractor, shape):
    stereo = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with pytest.raises(ValueError, match="2-D array is ambiguous"):
        extractor(stereo, sampling_rate=16000)
    with pytest.raises(ValueError, match="looks like 2 channels"):
        extractor([stereo], sampling_rate=16000)
    mono = stereo.mean(axis=0 if shape[0] == 2 else 1)
    mixed = extractor([stereo], sampling_rate=16000, downmix=True, return_tensors="pt")["input_features"]
    expected = extractor(mono, sampling_rate=16000, return_tensors="pt")["input_features"]
    torch.testing.assert_close(mixed, expected)


def test_int16_is_scaled_like_the_equivalent_float(extractor):
    pcm = (np.random.default_rng(1).standard_normal(4000) * 3000).astype(np.int16)
    as_float = pcm.astype(np.float32) / 32768.0
    a = extractor(pcm, sampling_rate=16000, return_tensors="pt", do_normalize=False)["input_features"]
    b = extractor(as_float, sampling_rate=16000, return_tensors="pt")["input_features"]
    torch.testing.assert_close(a, b, atol=1e-4, rtol=0)


def test_unnormalised_features_show_int16_scaling():
    extractor = LogMelFeatureExtractor(do_normalize=False)
    pcm = (np.random.default_rng(1).standard_normal(4000) * 3000).astype(np.int16)
    scaled = extractor(pcm, sampling_rate=16000, return_tensors="pt")["input_features"]
    raw = extractor(pcm.astype(np.float32), sampling_rate=16000, return_tensors="pt")["input_features"]
    # A missing /32768 would shift the log power by log(32768^2) ≈ 20.8.
    torch.testing.assert_close(
        (raw - scaled).mean(), torch.tensor(2 * np.log(32768.0), dtype=torch.float32), atol=0.5, rtol=0
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_float64_and_float16_are_cast(extractor, dtype):
    wave = random_waveforms([4000])[0]
    a = extractor(wave.astype(dtype), sampling_rate=16000, return_tensors="pt")["input_features"]
    b = extractor(wave.astype(dtype).astype(np.float32), sampling_rate=16000, return_tensors="pt")["input_features"]
    assert a.dtype == torch.float32
    torch.testing.assert_close(a, b)


def test_non_audio_dtype_is_rejected(extractor):
    with pytest.raises(ValueError, match="Utterance 0: samples of type"):
        extractor(np.array(["a", "b"]), sampling_rate=16000)


def test_torch_input_stays_a_tensor_and_matches_numpy(extractor):
    wave = random_waveforms([5000])[0]
    a = extractor(torch.from_numpy(wave), sampling_rate=16000, return_tensors="pt")["input_features"]
    b = extractor(wave, sampling_rate=16000, return_tensors="np")["input_features"]
    assert isinstance(b, np.ndarray)
    torch.testing.assert_close(a, torch.from_numpy(b))


def test_pad_method_pads_time_major_features(extractor):
    waves = random_waveforms([3000, 6000])
    singles = [
        {"input_features": extractor(w, sampling_rate=16000, return_tensors="np")["input_features"][0]} for w in waves
    ]
    padded = extractor.pad(singles, return_tensors="pt")
    assert padded["input_features"].shape == (2, extractor.num_frames(6000), 80)
    assert padded["attention_mask"].sum(-1).tolist() == [extractor.num_frames(3000), extractor.num_frames(6000)]


def test_save_and_load_round_trip(tmp_path, extractor):
    extractor.save_pretrained(tmp_path)
    loaded = LogMelFeatureExtractor.from_pretrained(tmp_path)
    wave = random_waveforms([3000])[0]
    torch.testing.assert_close(
        loaded(wave, sampling_rate=16000, return_tensors="pt")["input_features"],
        extractor(wave, sampling_rate=16000, return_tensors="pt")["input_features"],
    )
