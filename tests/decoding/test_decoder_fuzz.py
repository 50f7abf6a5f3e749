"""Random logits (shapes, dtypes, lengths, NaN/inf/huge values), logit_lengths and option values through LMDecoder:
each call gives one string per utterance or a ValueError/TypeError raised by hf_asr itself, never a dependency's."""

from __future__ import annotations

import traceback
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hf_asr
from hf_asr.modeling.lm_decoder import LMDecoder

HF_ASR_DIR = str(Path(hf_asr.__file__).parent)
SPECIALS = [np.nan, np.inf, -np.inf, 1e30, -1e30, 3e38, -3e38, 1e300, 0.0]
DTYPES = ["float32", "float32", "float64", "float16", "int32", "bool", "bfloat16"]
OPTION_VALUES = {
    "beam_width": [1, 3, 0, -2, 2.5, "4", None, np.int64(2)],
    "beam_prune_logp": [-10.0, 0.0, -1e9, 5.0, np.nan],
    "token_min_logp": [-5.0, 0.0, -1e9, np.inf],
    "hotwords": [None, "cat", ["cat", "the mat"], [3], b"cat", "", ["", " "], {"cat": 1}],
    "hotword_weight": [10.0, -5.0, np.nan],
    "prune_history": [True, False, "yes"],
}
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def decoder(labels, arpa_path, unigrams) -> LMDecoder:
    return LMDecoder(labels, arpa_path, unigrams, beam_width=4)


def cast(values: np.ndarray, dtype: str):
    """float64 `values` in `dtype` (a torch tensor for bfloat16); out-of-range values overflow as casts do."""
    with np.errstate(all="ignore"):
        if dtype == "bfloat16":
            return torch.from_numpy(values.astype(np.float32)).to(torch.bfloat16)
        if dtype == "bool":
            return values > 0
        if dtype.startswith("int"):
            return np.clip(np.nan_to_num(values), -1000, 1000).astype(dtype)
        return values.astype(dtype)


@st.composite
def utterance_values(draw, num_labels: int) -> np.ndarray:
    """float64 logits, usually (T, V) with T in 0..12, sometimes the wrong V or rank, with a few special values."""
    frames = draw(st.integers(0, 12))
    classes = draw(st.sampled_from([num_labels] * 6 + [num_labels - 1, 1]))
    scale = draw(st.sampled_from([0.0, 1.0, 5.0, 1e4]))
    values = np.random.default_rng(draw(st.integers(0, 2**16))).normal(0.0, scale, (frames, classes))
    for _ in range(draw(st.integers(0, 2))):
        if values.size:
            values.flat[draw(st.integers(0, values.size - 1))] = draw(st.sampled_from(SPECIALS))
    rank = draw(st.sampled_from([2] * 8 + [1, 3]))
    return values.reshape(-1) if rank == 1 else values[None] if rank == 3 else values


@st.composite
def logit_lengths(draw, true_lengths: list[int]) -> list | None:
    """None, the true lengths, or the true lengths with one count or value wrong."""
    kind = draw(st.sampled_from(["none", "true", "true", "fewer", "more", "bad value"]))
    if kind == "none":
        return None
    lengths: list = list(true_lengths)
    if kind == "fewer" and lengths:
        lengths.pop()
    elif kind == "more":
        lengths.append(1)
    elif kind == "bad value" and lengths:
        lengths[draw(st.integers(0, len(lengths) - 1))] = draw(st.sampled_from([-1, 13, 2.5, "3", True]))
    return lengths


@st.composite
def batches(draw, num_labels: int) -> tuple:
    """(logits, logit_lengths, options) for one decode_batch call."""
    utterances = draw(st.lists(utterance_values(num_labels), max_size=3))
    dtype = draw(st.sampled_from(DTYPES))
    options = {
        name: draw(st.sampled_from(values))
        for name, values in OPTION_VALUES.items()
        if draw(st.integers(0, 3)) == 0  # each option given a quarter of the time
    }
    shapes_agree = len({u.shape[1:] for u in utterances if u.ndim == 2}) == 1 and all(u.ndim == 2 for u in utterances)
    if utterances and shapes_agree and draw(st.booleans()):  # (B, T, V) padded with zeros
        longest = max(len(u) for u in utterances)
        padded = np.zeros((len(utterances), longest, utterances[0].shape[1]))
        for i, u in enumerate(utterances):
            padded[i, : len(u)] = u
        return cast(padded, dtype), draw(logit_lengths([len(u) for u in utterances])), options
    return [cast(u, dtype) for u in utterances], None, options


def assert_raised_by_hf_asr(error: BaseException) -> None:
    assert isinstance(error, (ValueError, TypeError)), f"{type(error).__name__}: {error}"
    origin = traceback.extract_tb(error.__traceback__)[-1].filename
    assert origin.startswith(HF_ASR_DIR), f"{type(error).__name__} from {origin}: {error}"
    assert str(error)


@FUZZ
@given(data=st.data())
def test_decode_batch_gives_texts_or_named_errors(decoder, labels, data):
    logits, lengths, options = data.draw(batches(len(labels)))
    try:
        output = decoder.decode_batch(logits, logit_lengths=lengths, num_processes=1, **options)
    except Exception as error:  # noqa: BLE001 - the assertion is on which errors come out
        assert_raised_by_hf_asr(error)
        return
    assert len(output.text) == len(logits) == len(output.word_offsets)
    assert all(isinstance(text, str) for text in output.text)


@FUZZ
@given(data=st.data())
def test_decode_gives_a_text_or_a_named_error(decoder, labels, data):
    logits, _, options = data.draw(batches(len(labels)))
    for utterance in logits[:1]:
        try:
            text = decoder.decode(utterance, **options)
        except Exception as error:  # noqa: BLE001
            assert_raised_by_hf_asr(error)
        else:
            assert isinstance(text, str)


@FUZZ
@given(data=st.data())
def test_greedy_processor_decoding_gives_texts_or_named_errors(tokenizer, labels, data):
    """Float logits without an LM decoder take the processor's greedy path (integer arrays are token ids)."""
    from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Processor

    processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer)
    logits, lengths, _ = data.draw(batches(len(labels)))
    floats = [u for u in (logits if isinstance(logits, list) else [logits]) if "float" in str(u.dtype)]
    if not floats or len(floats) != (len(logits) if isinstance(logits, list) else 1):
        return
    try:
        texts = processor.batch_decode(logits, **({} if lengths is None else {"logit_lengths": lengths}))
    except Exception as error:  # noqa: BLE001
        assert_raised_by_hf_asr(error)
        return
    assert len(texts) == len(logits) and all(isinstance(text, str) for text in texts)


NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    st.sampled_from(["0.5", None, True, [1.0], np.float32(0.5), np.int64(1)]),
)


@settings(max_examples=60, deadline=None)
@given(alpha=NUMBERS, beta=NUMBERS, unk_score_offset=NUMBERS)
def test_lm_params_are_set_or_named(labels, arpa_path, unigrams, alpha, beta, unk_score_offset):
    try:
        decoder = LMDecoder(labels, arpa_path, unigrams, alpha=alpha, beta=beta, unk_score_offset=unk_score_offset)
    except Exception as error:  # noqa: BLE001
        assert_raised_by_hf_asr(error)
        assert any(name in str(error) for name in ("alpha", "beta", "unk_score_offset"))
        return
    assert all(np.isfinite(decoder.lm_params[k]) for k in ("alpha", "beta", "unk_score_offset"))
