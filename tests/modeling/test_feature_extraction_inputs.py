"""The feature extractor under any input: finite features of the documented shape, or our own named error."""

import traceback

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hf_asr import LogMelFeatureExtractor

EXTRACTOR = LogMelFeatureExtractor()
DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool", "object", "complex64"]
LENGTHS = [0, 1, 2, 7, 160, 401, 2500]
VALUES = ["normal", "zero", "nan", "inf", "huge", "tiny"]
# What our messages name: the utterance, the rate, the container.
NAMED = ("Utterance", "sampling_rate", "Audio is at", "Got ", "Expected a waveform", "waveforms")


def _samples(shape: tuple[int, ...], dtype: str, values: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = 0.3 * rng.standard_normal(shape)
    if values == "zero":
        data[:] = 0
    elif values == "huge":
        data *= 1e30
    elif values == "tiny":
        data *= 1e-30
    elif data.size and values in ("nan", "inf"):
        data.reshape(-1)[rng.integers(data.size)] = np.nan if values == "nan" else np.inf
    if dtype == "object":
        return data.astype(object)
    if np.issubdtype(np.dtype(dtype), np.integer):
        with np.errstate(invalid="ignore", over="ignore"):
            return np.nan_to_num(data * 100, posinf=0, neginf=0).astype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        return data.astype(dtype)


@st.composite
def utterance(draw) -> object:
    length = draw(st.sampled_from(LENGTHS))
    shape = draw(st.sampled_from([(length,), (length,), (2, length), (length, 1), (1, 1, length)]))
    array = _samples(shape, draw(st.sampled_from(DTYPES)), draw(st.sampled_from(VALUES)), draw(st.integers(0, 99)))
    form = draw(st.sampled_from(["numpy", "numpy", "torch", "list"]))
    if form == "torch" and array.dtype.kind in "fiub" and array.dtype != np.uint16:
        return torch.from_numpy(array.copy())
    return array.tolist() if form == "list" else array


@st.composite
def raw_speech(draw) -> object:
    kind = draw(st.sampled_from(["one", "batch", "batch", "empty list", "scalar", "string", "ragged"]))
    if kind == "one":
        return draw(utterance())
    if kind == "batch":
        return draw(st.lists(utterance(), min_size=1, max_size=3))
    return {"empty list": [], "scalar": 0.5, "string": "speech.wav", "ragged": [[[0.1, 0.2], [0.3]]]}[kind]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    speech=raw_speech(),
    sampling_rate=st.sampled_from([16000, 16000, 8000, 22050, 16000.0, 0, -16000, 16000.5, float("nan"), "16000"]),
    resample=st.booleans(),
    downmix=st.booleans(),
    padding=st.booleans(),
    return_tensors=st.sampled_from([None, "np", "pt"]),
)
def test_any_input_gives_finite_features_or_a_named_error(
    speech, sampling_rate, resample, downmix, padding, return_tensors
):
    try:
        out = EXTRACTOR(
            speech,
            sampling_rate=sampling_rate,
            resample=resample,
            downmix=downmix,
            padding=padding,
            return_tensors=return_tensors,
        )
    except (ValueError, TypeError) as error:
        raised_in = traceback.extract_tb(error.__traceback__)[-1].filename
        assert raised_in.endswith("feature_extraction.py"), f"{type(error).__name__} from {raised_in}: {error}"
        assert any(word in str(error) for word in NAMED), str(error)
        return
    batch = speech if isinstance(speech, list) and not all(isinstance(x, (int, float)) for x in speech) else [speech]
    features, mask = out["input_features"], out["attention_mask"]
    assert len(features) == len(mask) == len(batch)
    for feature, frame_mask in zip(features, mask):
        feature = np.asarray(feature.cpu() if isinstance(feature, torch.Tensor) else feature)
        assert feature.ndim == 2 and feature.shape[1] == EXTRACTOR.feature_size
        assert np.isfinite(feature).all()
        assert int(np.asarray(frame_mask).sum()) <= feature.shape[0]
    if padding and not resample:
        lengths = [int(np.asarray(m).sum()) for m in mask]
        assert max(lengths) == np.asarray(features).shape[1]


@pytest.mark.parametrize("amplitude", [1e5, 1e15, 1e30, 3e38])
def test_loud_audio_gives_the_features_exact_arithmetic_gives(amplitude):
    """The log-mel power of loud audio overflows float32; features must stay finite and correct."""
    import torchaudio

    rng = np.random.default_rng(0)
    wave = np.clip(0.3 * rng.standard_normal(8000), -1, 1)
    wave[:2000] = 0  # digital silence inside a loud clip keeps the log floor
    extractor = LogMelFeatureExtractor(do_normalize=False)
    got = extractor((wave * amplitude).astype(np.float32), sampling_rate=16000)["input_features"][0]
    mel = torchaudio.transforms.MelSpectrogram(16000, n_fft=400, hop_length=160, n_mels=80, pad_mode="constant")
    reference = torch.log(mel.double()(torch.from_numpy(wave * amplitude)) + 1e-6).T.numpy()
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, reference, atol=1e-4, rtol=1e-6)
    normalised = LogMelFeatureExtractor()((wave * amplitude).astype(np.float32), sampling_rate=16000)
    assert np.isfinite(normalised["input_features"]).all()


def test_float64_samples_beyond_float32_are_named():
    with pytest.raises(ValueError, match=r"Utterance 1 has samples up to 1e\+300, beyond float32's range"):
        EXTRACTOR([np.zeros(100), np.full(100, 1e300)], sampling_rate=16000)


@pytest.mark.parametrize(
    ("rate", "error", "named"),
    [("16000", TypeError, "sampling_rate='16000'"), (0, ValueError, "sampling_rate=0"), (8000.5, ValueError, "8000.5")],
)
def test_bad_sampling_rates_are_named(rate, error, named):
    with pytest.raises(error, match=named):
        EXTRACTOR(np.zeros(100, np.float32), sampling_rate=rate, resample=True)


def test_ragged_nested_lists_name_the_utterance():
    with pytest.raises(ValueError, match="Utterance 1 is not an array of samples"):
        EXTRACTOR([[0.1, 0.2], [[0.1], [0.2, 0.3]]], sampling_rate=16000)


def test_extract_without_waveforms_is_named():
    with pytest.raises(ValueError, match="extract\\(\\) got no waveforms"):
        EXTRACTOR.extract([])
