"""Batch collators for CTC fine-tuning and contrastive pretraining.

Both take examples holding `input_features` (T_mel, n_mels) log-mel frames (see `recipes.prepare_dataset`) and pad
them through the feature extractor. The pretraining collator also draws the span masks and negatives, with its own
seeded `torch.Generator`: the draws depend only on the seed, the process index and the number of batches drawn so
far, and `state_dict()` / `load_state_dict()` carry that state through checkpoints (the trainers save it), so a run
resumed from a checkpoint sees exactly the masks of an uninterrupted run.

Data loaders draw batches ahead of the training step (accelerate prefetches one batch to spot the last one), so at
a checkpoint the collator has usually made one more batch than the trainer consumed; `state_dict(num_consumed=n)`
returns the state as it was before batch n (the last few states are kept).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..modeling.feature_encoder import conv_output_lengths
from ..modeling.masking import compute_span_mask, sample_negative_indices

LABEL_PAD_ID = -100


def pad_features(examples: Sequence[dict[str, Any]], feature_extractor: Any | None = None) -> dict[str, torch.Tensor]:
    """Pad `input_features` of each example -> input_features (B, T, n_mels) float32, attention_mask (B, T) long.

    Uses the feature extractor's `pad` when given (its padding value), else zero padding.
    """
    features = [{"input_features": np.asarray(ex["input_features"], dtype=np.float32)} for ex in examples]
    if feature_extractor is not None:
        batch = feature_extractor.pad(features, padding=True, return_attention_mask=True, return_tensors="pt")
        return {"input_features": batch["input_features"].float(), "attention_mask": batch["attention_mask"].long()}
    tensors = [torch.from_numpy(f["input_features"]) for f in features]
    lengths = torch.tensor([len(t) for t in tensors])
    padded = torch.nn.utils.rnn.pad_sequence(tensors, batch_first=True)
    mask = (torch.arange(padded.shape[1])[None, :] < lengths[:, None]).long()
    return {"input_features": padded, "attention_mask": mask}


class DataCollatorCTC:
    """Pads log-mel features (feature extractor) and label ids (with -100) for `LogMelWav2Vec2ForCTC`.

    Examples: {"input_features": (T_mel, n_mels), "labels": list[int]}. Examples without "labels" give a batch
    without labels. Over-long labels are not dropped here: `CTCTrainer` skips and counts them, since it knows the
    model's frame counts.
    """

    def __init__(self, processor: Any, pad_to_multiple_of: int | None = None) -> None:
        self.processor = processor
        self.feature_extractor = getattr(processor, "feature_extractor", processor)
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, examples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = pad_features(examples, self.feature_extractor)
        if self.pad_to_multiple_of:
            batch = _pad_time_to_multiple(batch, self.pad_to_multiple_of)
        if examples and "labels" in examples[0]:
            labels = [torch.as_tensor(ex["labels"], dtype=torch.long).reshape(-1) for ex in examples]
            batch["labels"] = torch.nn.utils.rnn.pad_sequence(labels, batch_first=True, padding_value=LABEL_PAD_ID)
            if batch["labels"].shape[1] == 0:  # every transcript empty: keep a (B, 1) all-padding tensor
                batch["labels"] = torch.full((len(labels), 1), LABEL_PAD_ID, dtype=torch.long)
        return batch


class DataCollatorPretraining:
    """Pads features and draws span masks + negatives for `LogMelWav2Vec2ForPreTraining`.

    Args:
        frame_lengths: the model config (its conv kernels/strides give encoder frames), or a callable mapping
            (B,) mel-frame counts to (B,) encoder-frame counts (e.g. `model.wav2vec2.feature_encoder.output_lengths`).
        mask_prob, span_length, min_masks: span masking (wav2vec 2.0: 0.065, 10, 2).
        num_negatives: K negatives per masked frame, from the same utterance (wav2vec 2.0: 100).
        seed: base seed; the generator of process r is seeded with seed + 1_000_003 * r (set by the trainer).
        feature_extractor: pads with its padding value when given, else zeros.

    Returns batches with input_features (B, T_mel, n_mels), attention_mask (B, T_mel), mask_time_indices (B, T) bool
    and sampled_negative_indices (B, T, K) long; no mask or negative ever lies in padding.
    """

    def __init__(
        self,
        frame_lengths: Any,
        mask_prob: float = 0.065,
        span_length: int = 10,
        min_masks: int = 2,
        num_negatives: int = 100,
        seed: int = 0,
        feature_extractor: Any | None = None,
    ) -> None:
        self.frame_lengths_fn = _frame_lengths_fn(frame_lengths)
        self.mask_prob, self.span_length, self.min_masks = float(mask_prob), int(span_length), int(min_masks)
        self.num_negatives = int(num_negatives)
        self.seed = int(seed)
        self.feature_extractor = feature_extractor
        self.process_index = 0
        self.num_calls = 0
        self._generator: torch.Generator | None = None
        self._history: dict[int, torch.Tensor] = {}  # generator state before call i, for the last few calls

    @classmethod
    def from_config(cls, config: Any, seed: int = 0, feature_extractor: Any | None = None, **overrides: Any):
        """Masking settings from a `LogMelWav2Vec2Config` (mask_time_*, num_negatives), overridable."""
        settings = dict(
            mask_prob=config.mask_time_prob,
            span_length=config.mask_time_length,
            min_masks=max(config.mask_time_min_masks, 1),
            num_negatives=config.num_negatives,
        )
        settings.update(overrides)
        return cls(config, seed=seed, feature_extractor=feature_extractor, **settings)

    @property
    def generator(self) -> torch.Generator:
        if self._generator is None:
            self._generator = torch.Generator().manual_seed(self.seed + 1_000_003 * self.process_index)
        return self._generator

    def set_process_index(self, process_index: int) -> None:
        """Give each data-parallel process its own stream of masks (call before the first batch)."""
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

    def eval_copy(self) -> DataCollatorPretraining:
        """A fresh collator with the same settings (for evaluation: the same masks at every evaluation, and the
        training stream left untouched)."""
        copy = DataCollatorPretraining(self.frame_lengths_fn, self.mask_prob, self.span_length, self.min_masks,
                                       self.num_negatives, self.seed, self.feature_extractor)
        copy.process_index = self.process_index
        return copy

    history_size = 16

    def __call__(self, examples: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        self._history[self.num_calls] = self.generator.get_state()
        self._history.pop(self.num_calls - self.history_size, None)
        batch = pad_features(examples, self.feature_extractor)
        mel_lengths = batch["attention_mask"].sum(-1)
        lengths = torch.as_tensor(self.frame_lengths_fn(mel_lengths)).long()  # (B,)
        time = int(torch.as_tensor(self.frame_lengths_fn(torch.tensor([batch["input_features"].shape[1]])))[0])
        mask = compute_span_mask(
            lengths, time, self.mask_prob, self.span_length, self.min_masks, generator=self.generator
        )  # (B, T)
        negatives = sample_negative_indices(mask, lengths, self.num_negatives, generator=self.generator)  # (B, T, K)
        self.num_calls += 1
        batch["mask_time_indices"] = mask
        batch["sampled_negative_indices"] = negatives
        return batch


def _frame_lengths_fn(frame_lengths: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    if callable(frame_lengths):
        return frame_lengths
    if hasattr(frame_lengths, "conv_kernel") and hasattr(frame_lengths, "conv_stride"):
        kernels, strides = list(frame_lengths.conv_kernel), list(frame_lengths.conv_stride)
        return lambda lengths: conv_output_lengths(torch.as_tensor(lengths), kernels, strides)
    raise TypeError(
        "frame_lengths must be a LogMelWav2Vec2Config or a callable mapping mel-frame counts to encoder-frame counts, "
        f"got {type(frame_lengths).__name__}"
    )


def _pad_time_to_multiple(batch: dict[str, torch.Tensor], multiple: int) -> dict[str, torch.Tensor]:
    time = batch["input_features"].shape[1]
    extra = (-time) % multiple
    if extra:
        batch["input_features"] = torch.nn.functional.pad(batch["input_features"], (0, 0, 0, extra))
        batch["attention_mask"] = torch.nn.functional.pad(batch["attention_mask"], (0, extra))
    return batch


__all__ = ["DataCollatorCTC", "DataCollatorPretraining", "pad_features"]
