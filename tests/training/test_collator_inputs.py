"""Collators under random inputs: a valid batch (documented shapes, masks agree with lengths) or a named error."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hf_asr import LogMelWav2Vec2Config, LogMelWav2Vec2ForPreTraining
from hf_asr.training.collators import LABEL_PAD_ID, DataCollatorCTC, DataCollatorPretraining

N_MELS = 80
# Our errors name the example of the batch (or the extractor's utterance), or say what the batch lacks.
NAMED = re.compile(r"example \d+ of the batch|Utterance \d+|empty batch|need a feature extractor")
LENGTHS = st.one_of(st.sampled_from([0, 1, 2, 3]), st.integers(4, 30), st.integers(150, 320))
DTYPES = st.sampled_from(["float32", "float64", "float16", "int16"])


@pytest.fixture(scope="module")
def pretraining_model():
    return LogMelWav2Vec2ForPreTraining(LogMelWav2Vec2Config.tiny())


@st.composite
def labels(draw, vocab_size: int):
    kind = draw(st.sampled_from(["ids", "ids", "empty", "padding", "out of vocabulary", "floats", "text", "nested"]))
    ids = draw(st.lists(st.integers(0, vocab_size - 1), min_size=1, max_size=12))
    return {
        "ids": ids,
        "empty": [],
        "padding": [*ids, LABEL_PAD_ID, LABEL_PAD_ID],
        "out of vocabulary": [*ids, vocab_size + 3, -7],  # passed on: the CTC head checks ids
        "floats": [i + 0.5 for i in ids],
        "text": "".join(chr(97 + i % 26) for i in ids),
        "nested": [ids],
    }[kind]


@st.composite
def batches(draw, vocab_size: int):
    """(examples, what each example holds) with random sizes, lengths, dtypes and label values."""
    source = draw(st.sampled_from(["input_features", "audio"]))
    size = draw(st.integers(0, 4))
    with_labels = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    examples = []
    for _ in range(size):
        frames, dtype = draw(LENGTHS), draw(DTYPES)
        if source == "input_features":
            n_mels = N_MELS if draw(st.integers(0, 9)) else draw(st.sampled_from([1, 40, 81]))
            values = rng.standard_normal((frames, n_mels)) * (100 if dtype == "int16" else 1)
            if dtype != "int16" and not draw(st.integers(0, 14)):
                values[rng.integers(0, max(frames, 1)) if frames else 0 :] = np.nan
            example = {"input_features": values.astype(dtype)}
        else:
            samples = (0.1 * rng.standard_normal(frames * 160)).astype(np.float32)
            if dtype == "int16":
                samples = (samples * 32767).astype(np.int16)
            example = {"audio": {"array": samples.astype(dtype), "sampling_rate": 16000}}
        if with_labels:
            example["labels"] = draw(labels(vocab_size))
        examples.append(example)
    return examples


def collate_or_named_error(collator, examples):
    try:
        return collator(examples)
    except (ValueError, TypeError) as error:
        assert NAMED.search(str(error)), f"unnamed error: {type(error).__name__}: {error}"
        return None


def expected_frames(example, feature_extractor):
    if "input_features" in example:
        return len(example["input_features"])
    return feature_extractor.num_frames(len(example["audio"]["array"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), multiple=st.sampled_from([None, 1, 4]))
def test_ctc_collator_gives_a_valid_batch_or_a_named_error(processor, data, multiple):
    vocab_size = len(processor.tokenizer)
    examples = data.draw(batches(vocab_size))
    batch = collate_or_named_error(DataCollatorCTC(processor, pad_to_multiple_of=multiple), examples)
    if batch is None:
        return
    lengths = [expected_frames(e, processor.feature_extractor) for e in examples]
    features, mask = batch["input_features"], batch["attention_mask"]
    assert features.dtype == torch.float32 and features.shape[0] == len(examples) and features.shape[2] == N_MELS
    assert features.shape[1] >= max(lengths) and features.shape[1] % (multiple or 1) == 0
    assert mask.shape == features.shape[:2] and mask.sum(-1).tolist() == lengths
    assert torch.isfinite(features).all()
    if "labels" not in examples[0]:
        assert "labels" not in batch
        return
    padded = batch["labels"]
    assert padded.dtype == torch.long and padded.shape[0] == len(examples)
    assert padded.shape[1] == max(1, *(len(e["labels"]) for e in examples))
    for row, example in zip(padded.tolist(), examples):
        given_ids = list(example["labels"])
        assert row == given_ids + [LABEL_PAD_ID] * (len(row) - len(given_ids))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), with_extractor=st.booleans())
def test_pretraining_collator_gives_a_valid_batch_or_a_named_error(processor, pretraining_model, data, with_extractor):
    examples = data.draw(batches(len(processor.tokenizer)))
    extractor = processor.feature_extractor if with_extractor else None
    collator = DataCollatorPretraining.from_model(pretraining_model, feature_extractor=extractor, num_negatives=5)
    batch = collate_or_named_error(collator, examples)
    if batch is None:
        return
    lengths = [expected_frames(e, processor.feature_extractor) for e in examples]
    mask = batch["attention_mask"]
    assert batch["input_features"].shape[:2] == mask.shape and mask.sum(-1).tolist() == lengths
    encoder = pretraining_model.encoder_lengths(torch.tensor(lengths)).tolist()
    span_mask, negatives = batch["mask_time_indices"], batch["sampled_negative_indices"]
    time = int(pretraining_model.encoder_lengths(torch.tensor([mask.shape[1]]))[0])
    assert span_mask.dtype == torch.bool and span_mask.shape == (len(examples), time)
    assert negatives.shape == (len(examples), time, 5) and negatives.dtype == torch.long
    for row, length in enumerate(encoder):
        assert not span_mask[row, length:].any()
        chosen = negatives[row][span_mask[row]]
        assert ((chosen >= 0) & (chosen < max(length, 1))).all()


# ---- the named errors, one by one ----------------------------------------------------------------------------------
def features(frames, n_mels=N_MELS):
    return np.zeros((frames, n_mels), np.float32)


AUDIO = {"audio": {"array": np.zeros(160), "sampling_rate": 16000}}
LABELLED = {"input_features": features(3), "labels": [1]}
BAD_BATCHES = [
    (
        [{"input_features": features(5)}, {"input_features": features(5, 40)}],
        r"example 1 .*\(5, 40\), not \(frames, 80",
    ),
    ([{"input_features": np.zeros(5, np.float32)}], r"example 0 .* shape \(5,\)"),
    ([{"input_features": features(3)}, {"input_features": np.full((2, N_MELS), np.nan)}], "example 1 .* NaN"),
    ([{"input_features": [["a"] * N_MELS]}], "example 0 .* not an array of numbers"),
    ([LABELLED, {"input_features": features(3)}], "example 1 .* no 'labels'"),
    ([{"input_features": features(3), "labels": "abc"}], r"example 0 .* text \('abc'\)"),
    ([{"input_features": features(3), "labels": [1.5, 2.0]}], "example 0 .* integer ids"),
    ([{"input_features": features(3), "labels": [[1, 2]]}], "example 0 .* flat list"),
    ([{"input_features": features(3)}, AUDIO], "example 1 .* no 'input_features'"),
    ([], "empty batch"),
]


@pytest.mark.parametrize(("examples", "message"), BAD_BATCHES)
def test_ctc_collator_names_the_bad_example(processor, examples, message):
    with pytest.raises(ValueError, match=message):
        DataCollatorCTC(processor)(examples)


def test_pretraining_collator_without_extractor_refuses_raw_audio(pretraining_model):
    collator = DataCollatorPretraining.from_model(pretraining_model)
    with pytest.raises(ValueError, match="need a feature extractor"):
        collator([{"audio": {"array": np.zeros(1600, np.float32), "sampling_rate": 16000}}])


def test_ctc_collator_refuses_a_padding_multiple_below_one(processor):
    for multiple in (0, -8):
        with pytest.raises(ValueError, match=f"pad_to_multiple_of must be an integer >= 1, got {multiple}"):
            DataCollatorCTC(processor, pad_to_multiple_of=multiple)


@pytest.mark.parametrize(
    "setting,value,message",
    [
        ("mask_prob", 1.5, r"mask_prob must be a number in \[0, 1\], got 1.5"),
        ("mask_prob", -0.1, r"mask_prob must be a number in \[0, 1\], got -0.1"),
        ("mask_prob", float("nan"), "mask_prob must be a number in"),
        ("span_length", 0, "span_length must be an integer >= 1, got 0"),
        ("span_length", "3", "span_length must be an integer >= 1, got '3'"),
        ("num_negatives", 0, "num_negatives must be an integer >= 1, got 0"),
        ("min_masks", -1, "min_masks must be an integer >= 0, got -1"),
    ],
)
def test_pretraining_collator_settings_are_checked(pretraining_model, setting, value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        DataCollatorPretraining.from_model(pretraining_model, **{setting: value})
