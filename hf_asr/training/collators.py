"""Batch collators for CTC fine-tuning and contrastive pretraining.

Examples hold either precomputed `input_features` (T_mel, n_mels) log-mel frames (`hf_asr.data.features.
prepare_dataset`) or raw `audio` cells (`prepare_dataset(..., precompute_features=False)`), whose log-mel features
the collator computes per batch, after the seeded waveform augmentation when one is given (training only: the
`eval_copy()` the trainers use for evaluation has none).

Random draws (the pretraining collator's span masks and negatives, the augmentation) come from the collator's own
seeded `torch.Generator`: they depend only on the seed, the process index and the number of batches drawn so far,
and `state_dict()` / `load_state_dict()` carry that state through checkpoints (the trainers save it), so a run
resumed from a checkpoint sees exactly the batches of an uninterrupted run.

Data loaders draw batches ahead of the training step (accelerate prefetches one batch to spot the last one), so at
a checkpoint the collator has usually made one more batch than the trainer consumed; `state_dict(num_consumed=n)`
returns the state as it was before batch n (the last few states are kept).

With DataLoader workers (`dataloader_num_workers > 0`) each worker collates with its own copy of the collator: each
copy draws its own stream (the worker's id is mixed into the seed, so workers do not repeat each other's draws),
but those streams live in the workers and are not saved: a resumed run draws other masks than an unbroken one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..data.audio import audio_array
from ..data.augmentation import AugmentationSettings, WaveformAugmenter
from ..data.feature_augmentation import augment_batch_features
from ..modeling.masking import compute_span_mask, sample_negative_indices
from ..modeling.value_rules import COUNT, FRACTION, Rule, check_optional, check_value

LABEL_PAD_ID = -100
EncoderLengths = Callable[[torch.Tensor], torch.Tensor]  # (B,) mel frames -> (B,) encoder frames


def feature_rows(examples: Sequence[dict[str, Any]], feature_size: int | None = None) -> list[np.ndarray]:
    """Each example's `input_features` as a checked (T, n_mels) float32 array (T may be 0).

    Raises ValueError naming the example when a row is not 2-D numbers, holds NaN/inf, or its n_mels differs from
    `feature_size` (the feature extractor's) or, without one, from the first example's.
    """
    rows = []
    for index, example in enumerate(examples):
        try:
            row = np.asarray(example["input_features"], dtype=np.float32)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"input_features of example {index} of the batch are not an array of numbers: {error}"
            ) from error
        expected = feature_size if feature_size is not None else (rows[0].shape[1] if rows else None)
        if row.ndim != 2 or (expected is not None and row.shape[1] != expected):
            wanted = f"(frames, {expected})" if expected is not None else "(frames, n_mels)"
            raise ValueError(f"input_features of example {index} of the batch have shape {row.shape}, not {wanted}")
        if not np.isfinite(row).all():
            frame = int(np.flatnonzero(~np.isfinite(row).all(axis=1))[0])
            raise ValueError(f"input_features of example {index} of the batch hold NaN or inf (frame {frame})")
        rows.append(row)
    return rows


def label_rows(examples: Sequence[dict[str, Any]]) -> list[torch.Tensor]:
    """Each example's `labels` as a 1-D long tensor; ValueError naming the example unless they are integer ids.

    Values are not checked against a vocabulary here: the CTC head does that (negative ids count as padding).
    """
    rows = []
    for index, example in enumerate(examples):
        value = example["labels"]
        if isinstance(value, (str, bytes)):
            raise ValueError(f"labels of example {index} of the batch are text ({value!r}), not token ids")
        try:
            row = np.asarray(value.cpu() if isinstance(value, torch.Tensor) else value)
        except (TypeError, ValueError) as error:
            raise ValueError(f"labels of example {index} of the batch are not a list of ids: {error}") from error
        if row.size == 0:
            row = row.reshape(0).astype(np.int64)
        if row.ndim != 1 or row.dtype.kind not in "iu":
            raise ValueError(
                f"labels of example {index} of the batch must be a flat list of integer ids, got {value!r:.80}"
            )
        rows.append(torch.from_numpy(row.astype(np.int64)))
    return rows


def _check_same_keys(examples: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """Every example has each of `keys` that the first one has (ValueError naming the example otherwise)."""
    for index, example in enumerate(examples):
        if not isinstance(example, dict):
            raise TypeError(f"example {index} of the batch is a {type(example).__name__}, not a dict of columns")
    first = examples[0]
    for key in keys:
        if key in first:
            for index, example in enumerate(examples):
                if key not in example:
                    raise ValueError(f"example {index} of the batch has no {key!r} while example 0 has")


def pad_features(examples: Sequence[dict[str, Any]], feature_extractor: Any | None = None) -> dict[str, torch.Tensor]:
    """Pad `input_features` of each example -> input_features (B, T, n_mels) float32, attention_mask (B, T) long.

    Uses the feature extractor's `pad` when given (its padding value), else zero padding. Rows are checked by
    `feature_rows` (the error names the example).
    """
    size = getattr(feature_extractor, "feature_size", None)
    features = [{"input_features": row} for row in feature_rows(examples, size)]
    if feature_extractor is not None:
        batch = feature_extractor.pad(features, padding=True, return_attention_mask=True, return_tensors="pt")
        return {"input_features": batch["input_features"].float(), "attention_mask": batch["attention_mask"].long()}
    tensors = [torch.from_numpy(f["input_features"]) for f in features]
    lengths = torch.tensor([len(t) for t in tensors])
    padded = torch.nn.utils.rnn.pad_sequence(tensors, batch_first=True)
    mask = (torch.arange(padded.shape[1])[None, :] < lengths[:, None]).long()
    return {"input_features": padded, "attention_mask": mask}


def featurize(
    examples: Sequence[dict[str, Any]],
    feature_extractor: Any,
    augmenter: WaveformAugmenter | None = None,
    generator: torch.Generator | None = None,
    augmentation: AugmentationSettings | None = None,
) -> dict[str, torch.Tensor]:
    """input_features (B, T, n_mels) and attention_mask (B, T) of examples holding `input_features` or `audio`.

    Raw audio is checked against the extractor's sampling rate (the error names the example), augmented when
    `augmenter` is given (drawing from `generator`), then turned into log-mel features; the feature steps of
    `augmentation` (time stretch, mel warp) follow, on prepared features too.
    """
    batch = _padded_features(examples, feature_extractor, augmenter, generator)
    return augment_feature_rows(batch, augmentation, generator, feature_extractor)


def _padded_features(
    examples: Sequence[dict[str, Any]],
    feature_extractor: Any,
    augmenter: WaveformAugmenter | None,
    generator: torch.Generator | None,
) -> dict[str, torch.Tensor]:
    if not examples:
        raise ValueError("cannot collate an empty batch")
    _check_same_keys(examples, ("input_features", "audio", "labels"))
    if "input_features" in examples[0]:
        return pad_features(examples, feature_extractor)
    if "audio" not in examples[0]:
        raise KeyError(f"examples need `input_features` or `audio`; this one has {sorted(examples[0])}")
    if feature_extractor is None:
        raise ValueError("raw-audio examples need a feature extractor (feature_extractor=) to compute their features")
    rate = feature_extractor.sampling_rate
    waveforms = []
    for index, example in enumerate(examples):
        samples, sampling_rate = audio_array(example["audio"])
        if sampling_rate is not None and sampling_rate != rate:
            raise ValueError(
                f"example {index} of the batch is sampled at {sampling_rate} Hz, the feature extractor expects "
                f"{rate} Hz: load the corpus with hf_asr.data.loading.load_corpus (resamples)"
            )
        waveform = torch.from_numpy(samples)
        waveforms.append(augmenter(waveform, generator) if augmenter is not None else waveform)
    batch = feature_extractor(waveforms, sampling_rate=rate, padding=True, return_tensors="pt")
    return {"input_features": batch["input_features"].float(), "attention_mask": batch["attention_mask"].long()}


class SeededCollatorMixin:
    """A per-process seeded generator whose state is saved in checkpoints (see the module docstring).

    Subclasses call `_start_batch()` at the top of `__call__` and draw from `self.generator`.
    """

    history_size = 16

    def _init_stream(self, seed: int) -> None:
        self.seed = int(seed)
        self.process_index = 0
        self.num_calls = 0
        self._generator: torch.Generator | None = None
        self._history: dict[int, torch.Tensor] = {}  # generator state before call i, for the last few calls

    @property
    def generator(self) -> torch.Generator:
        if self._generator is None:
            worker = torch.utils.data.get_worker_info()
            worker_offset = 0 if worker is None else 7_919 * (worker.id + 1)
            self._generator = torch.Generator().manual_seed(self.seed + 1_000_003 * self.process_index + worker_offset)
        return self._generator

    def set_process_index(self, process_index: int) -> None:
        """Give each data-parallel process its own random stream (call before the first batch)."""
        if self.num_calls == 0 and process_index != self.process_index:
            self.process_index = int(process_index)
            self._generator = None

    def state_dict(self, num_consumed: int | None = None) -> dict[str, Any]:
        """The state to resume from; with `num_consumed`, as it was before batch `num_consumed` was drawn."""
        calls, generator = self.num_calls, self.generator.get_state()
        if num_consumed is not None and num_consumed != self.num_calls:
            if num_consumed not in self._history:
                raise ValueError(
                    f"no collator state for batch {num_consumed}: {self.num_calls} drawn, the last "
                    f"{self.history_size} kept (is a data loader drawing that far ahead?)"
                )
            calls, generator = num_consumed, self._history[num_consumed]
        return {"seed": self.seed, "process_index": self.process_index, "num_calls": calls, "generator": generator}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.seed, self.process_index = int(state["seed"]), int(state["process_index"])
        self.num_calls = int(state["num_calls"])
        self._generator = torch.Generator()
        self._generator.set_state(state["generator"])
        self._history = {}

    def _start_batch(self) -> None:
        self._history[self.num_calls] = self.generator.get_state()
        self._history.pop(self.num_calls - self.history_size, None)
        self.num_calls += 1

    def _fresh_copy(self, **changes: Any) -> Any:
        """A copy with the same settings and a fresh stream (evaluation: the same draws at every evaluation, and
        the training stream left untouched)."""
        fresh = copy.copy(self)
        for name, value in changes.items():
            setattr(fresh, name, value)
        process_index = self.process_index
        fresh._init_stream(self.seed)
        fresh.process_index = process_index
        return fresh


def _augmenter(augmentation: AugmentationSettings | None, feature_extractor: Any) -> WaveformAugmenter | None:
    if augmentation is None or not augmentation.changes_waveform:
        return None
    return WaveformAugmenter(augmentation, sampling_rate=feature_extractor.sampling_rate)


def augment_feature_rows(
    batch: dict[str, torch.Tensor],
    augmentation: AugmentationSettings | None,
    generator: torch.Generator | None,
    feature_extractor: Any | None = None,
) -> dict[str, torch.Tensor]:
    """The feature steps of `augmentation` (time stretch per batch, mel warp per row) on each row's valid frames,
    padded again by `pad_features`: input_features (B, T, n_mels), attention_mask (B, T) -> (B, T', n_mels),
    (B, T')."""
    if augmentation is None or not augmentation.changes_features:
        return batch
    lengths = batch["attention_mask"].sum(-1).tolist()
    valid = [features[:length] for features, length in zip(batch["input_features"], lengths, strict=True)]
    rows = augment_batch_features(valid, augmentation.time_stretch, augmentation.mel_warp, generator)
    return pad_features([{"input_features": row.numpy()} for row in rows], feature_extractor)


class DataCollatorCTC(SeededCollatorMixin):
    """Pads log-mel features (feature extractor) and label ids (with -100) for `LogMelWav2Vec2ForCTC`.

    Examples: {"input_features": (T_mel, n_mels) or "audio": cell, "labels": list[int]}. Examples without "labels"
    give a batch without labels. `augmentation` is applied in training batches (waveform steps need raw audio,
    feature steps work on prepared features too); `eval_copy()` has none. Over-long labels are not dropped here:
    `CTCTrainer` skips and counts them (a time stretch can make a transcript too long for its frames).
    """

    def __init__(
        self,
        processor: Any,
        pad_to_multiple_of: int | None = None,
        augmentation: AugmentationSettings | None = None,
        seed: int = 0,
    ) -> None:
        check_optional("pad_to_multiple_of", pad_to_multiple_of, COUNT)
        self.processor = processor
        self.feature_extractor = getattr(processor, "feature_extractor", processor)
        self.pad_to_multiple_of = pad_to_multiple_of
        self.augmentation = augmentation
        self.augmenter = _augmenter(augmentation, self.feature_extractor)
        self._init_stream(seed)

    def eval_copy(self) -> DataCollatorCTC:
        return self._fresh_copy(augmentation=None, augmenter=None)

    def __call__(self, examples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        self._start_batch()
        batch = featurize(examples, self.feature_extractor, self.augmenter, self.generator, self.augmentation)
        if self.pad_to_multiple_of:
            batch = _pad_time_to_multiple(batch, self.pad_to_multiple_of)
        if "labels" in examples[0]:
            labels = label_rows(examples)
            batch["labels"] = torch.nn.utils.rnn.pad_sequence(labels, batch_first=True, padding_value=LABEL_PAD_ID)
            if batch["labels"].shape[1] == 0:  # every transcript empty: keep a (B, 1) all-padding tensor
                batch["labels"] = torch.full((len(labels), 1), LABEL_PAD_ID, dtype=torch.long)
        return batch


class DataCollatorPretraining(SeededCollatorMixin):
    """Pads features and draws span masks + negatives for `LogMelWav2Vec2ForPreTraining`.

    Args:
        encoder_lengths: maps (B,) mel-frame counts to (B,) encoder-frame counts: the model's `encoder_lengths`.
        mask_prob, span_length, min_masks: span masking (wav2vec 2.0: 0.065, 10, 2).
        num_negatives: K negatives per masked frame, from the same utterance (wav2vec 2.0: 100).
        seed: base seed; the generator of process r is seeded with seed + 1_000_003 * r (set by the trainer).
        feature_extractor: pads with its padding value; required for raw-audio examples.
        augmentation: training-batch augmentation (waveform steps: raw audio only; feature steps: any example).

    Returns batches with input_features (B, T_mel, n_mels), attention_mask (B, T_mel), mask_time_indices (B, T) bool
    and sampled_negative_indices (B, T, K) long; no mask or negative ever lies in padding.
    """

    def __init__(
        self,
        encoder_lengths: EncoderLengths,
        mask_prob: float = 0.065,
        span_length: int = 10,
        min_masks: int = 2,
        num_negatives: int = 100,
        seed: int = 0,
        feature_extractor: Any | None = None,
        augmentation: AugmentationSettings | None = None,
    ) -> None:
        if not callable(encoder_lengths):
            raise TypeError(
                "encoder_lengths must be a callable mapping mel-frame counts to encoder-frame counts (the model's "
                f"`encoder_lengths`), got {type(encoder_lengths).__name__}"
            )
        self.encoder_lengths = encoder_lengths
        self.mask_prob = check_value("mask_prob", mask_prob, FRACTION)
        self.span_length = check_value("span_length", span_length, COUNT)
        self.min_masks = check_value("min_masks", min_masks, Rule(int, low=0))
        # With no negatives the contrastive loss is 0 whatever the model does.
        self.num_negatives = check_value("num_negatives", num_negatives, COUNT)
        self.feature_extractor = feature_extractor
        self.augmentation = augmentation
        self.augmenter = None if feature_extractor is None else _augmenter(augmentation, feature_extractor)
        self._init_stream(seed)

    @classmethod
    def from_model(
        cls, model: Any, seed: int = 0, feature_extractor: Any | None = None, **overrides: Any
    ) -> DataCollatorPretraining:
        """Lengths and masking settings (mask_prob, span_length, min_masks, num_negatives) of a pretraining model,
        each overridable."""
        settings = {**model.masking_settings(), **overrides}
        return cls(model.encoder_lengths, seed=seed, feature_extractor=feature_extractor, **settings)

    def eval_copy(self) -> DataCollatorPretraining:
        return self._fresh_copy(augmentation=None, augmenter=None)

    def __call__(self, examples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        self._start_batch()
        batch = featurize(examples, self.feature_extractor, self.augmenter, self.generator, self.augmentation)
        mel_lengths = batch["attention_mask"].sum(-1)
        lengths = torch.as_tensor(self.encoder_lengths(mel_lengths)).long()  # (B,)
        time = int(torch.as_tensor(self.encoder_lengths(torch.tensor([batch["input_features"].shape[1]])))[0])
        mask = compute_span_mask(
            lengths, time, self.mask_prob, self.span_length, self.min_masks, generator=self.generator
        )  # (B, T)
        negatives = sample_negative_indices(mask, lengths, self.num_negatives, generator=self.generator)  # (B, T, K)
        batch["mask_time_indices"] = mask
        batch["sampled_negative_indices"] = negatives
        return batch


def _pad_time_to_multiple(batch: dict[str, torch.Tensor], multiple: int) -> dict[str, torch.Tensor]:
    time = batch["input_features"].shape[1]
    extra = (-time) % multiple
    if extra:
        batch["input_features"] = torch.nn.functional.pad(batch["input_features"], (0, 0, 0, extra))
        batch["attention_mask"] = torch.nn.functional.pad(batch["attention_mask"], (0, extra))
    return batch


__all__ = [
    "DataCollatorCTC",
    "DataCollatorPretraining",
    "augment_feature_rows",
    "pad_features",
    "featurize",
    "feature_rows",
    "label_rows",
]
