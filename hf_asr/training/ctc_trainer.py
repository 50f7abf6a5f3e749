"""CTCTrainer: CTC fine-tuning with exact loss scaling, over-long-label skipping and WER/CER evaluation.

Loss scaling. The loss of one optimizer step is the mean, over every usable utterance of the step (all
gradient-accumulation micro-batches, all processes), of each utterance's CTC loss (divided by its label length
when `config.ctc_loss_reduction == "mean"`, as torch's "mean"). Each micro-batch contributes
`sum_of_its_utterance_losses * world_size / N_step`, with N_step counted before the step (and gathered across
processes): DDP averages gradients over processes, so the result equals one big batch. This is exact with
unequal micro-batches too (duration batching), which dividing a per-batch mean by the accumulation steps is not.
`loss_is_scaled_for_ga = True` tells the Trainer not to divide again; the model's `accepts_loss_kwargs = False`
keeps the Trainer from multiplying by the world size itself.

Over-long labels. CTC needs `frames >= label_length + repeated_adjacent_labels`; otherwise the loss is inf (or
zeroed by `zero_infinity` while still counted). Such utterances are left out of the loss and of N_step and counted;
`skipped_utterances` (total since the start, all processes) is logged with every training log.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from transformers import Trainer

from ..modeling.feature_encoder import conv_output_lengths
from ..modeling.losses import ctc_loss
from .base import HfAsrTrainerMixin
from .metrics import ctc_argmax_logits

logger = logging.getLogger(__name__)


def ctc_required_frames(labels: torch.Tensor) -> torch.Tensor:
    """(B, S) label ids (-100 / negative = padding) -> (B,) frames a CTC alignment needs: length + adjacent repeats."""
    valid = labels >= 0
    lengths = valid.sum(-1)
    repeats = ((labels[:, 1:] == labels[:, :-1]) & valid[:, 1:] & valid[:, :-1]).sum(-1)
    return lengths + repeats


def encoder_frame_lengths(model: Any, attention_mask: torch.Tensor) -> torch.Tensor:
    """(B, T_mel) attention mask -> (B,) encoder frames (the logits' valid length), from the model config."""
    config = model.config
    return conv_output_lengths(attention_mask.sum(-1).long(), config.conv_kernel, config.conv_stride)


class CTCTrainer(HfAsrTrainerMixin, Trainer):
    """`transformers.Trainer` for `LogMelWav2Vec2ForCTC` (see the module docstring).

    With `compute_metrics` (e.g. `metrics.make_compute_metrics(processor)`), evaluation reports WER/CER of greedy
    transcripts. Extra keyword arguments: `max_seconds_per_batch` (batch by total audio duration instead of a fixed
    size; needs a `duration` column) and `duration_column`.
    """

    loss_is_scaled_for_ga = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.compute_metrics is not None and self.preprocess_logits_for_metrics is None:
            self.preprocess_logits_for_metrics = ctc_argmax_logits  # keep argmax ids, not (B, T, V) logits
        self.num_skipped_utterances = 0  # this process, since the start of training
        self._skipped_pending = torch.zeros((), dtype=torch.float64)
        self._skipped_total: float | None = None  # all processes; restored from the log history on resume

    # ---- counting usable utterances before the step ------------------------------------------------------------
    def _usable(self, inputs: dict[str, Any]) -> torch.Tensor:
        labels = inputs["labels"]
        frames = encoder_frame_lengths(self.model, inputs["attention_mask"].to(labels.device))
        return frames >= ctc_required_frames(labels)

    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device) -> torch.Tensor | None:
        if self._predicting or not batch_samples or "labels" not in batch_samples[0]:
            return None
        count = sum(int(self._usable(batch).sum()) for batch in batch_samples)
        total = self._gather_sum(torch.tensor([float(count)], dtype=torch.float64))
        return total[0].to(device=device, dtype=torch.float32)

    # ---- the loss ----------------------------------------------------------------------------------------------
    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        inputs = dict(inputs)
        labels = inputs.pop("labels", None)
        outputs = model(**inputs)
        if labels is None:
            raise ValueError("CTCTrainer needs `labels` in every batch (use DataCollatorCTC on labelled examples).")
        config = self.model.config
        _check_label_ids(labels, config.vocab_size, config.pad_token_id)
        logits, logit_lengths = outputs.logits, outputs.logit_lengths
        usable = logit_lengths.to(labels.device) >= ctc_required_frames(labels)
        skipped = int((~usable).sum())
        if skipped and model.training:
            self.num_skipped_utterances += skipped
            self._skipped_pending += skipped
            logger.debug("Skipped %d utterance(s) whose labels need more CTC frames than they have.", skipped)
        rows = usable.nonzero().flatten()
        if len(rows):
            per_utterance = ctc_loss(
                logits[rows.to(logits.device)],
                logit_lengths[rows.to(logit_lengths.device)],
                labels[rows].to(logits.device),
                blank_id=config.pad_token_id,
                reduction="none",
                zero_infinity=True,
            )  # (N,)
            if config.ctc_loss_reduction == "mean":
                per_utterance = per_utterance / (labels[rows] >= 0).sum(-1).clamp(min=1).to(per_utterance)
            loss_sum = per_utterance.sum()
        else:
            loss_sum = logits.sum() * 0.0  # keeps the graph (DDP) while contributing nothing
        count = torch.tensor(float(len(rows)), device=loss_sum.device)
        if model.training and num_items_in_batch is not None:
            loss = loss_sum * self.args.world_size / torch.as_tensor(num_items_in_batch).to(loss_sum).clamp(min=1)
        else:
            loss = loss_sum / count.clamp(min=1)
            if model.training:
                loss = loss / self.current_gradient_accumulation_steps
        return (loss, outputs) if return_outputs else loss

    def _training_logs(self) -> dict[str, float]:
        pending = self._gather_sum(self._skipped_pending.reshape(1))[0]
        self._skipped_pending = torch.zeros((), dtype=torch.float64)
        if pending > 0:
            logger.warning("%d utterance(s) skipped since the last log: labels longer than their CTC frames allow.",
                           int(pending))
        if self._skipped_total is None:
            previous = [log["skipped_utterances"] for log in self.state.log_history if "skipped_utterances" in log]
            self._skipped_total = float(previous[-1]) if previous else 0.0
        self._skipped_total += float(pending)
        return {"skipped_utterances": self._skipped_total}


def _check_label_ids(labels: torch.Tensor, vocab_size: int, blank: int | None) -> None:
    bad = (labels >= vocab_size) | ((labels < 0) & (labels != -100))
    if blank is not None:
        bad |= labels == blank
    if bool(bad.any()):
        row, col = bad.nonzero()[0].tolist()
        raise ValueError(
            f"labels of utterance {row} hold id {int(labels[row, col])} at position {col}: ids must lie in "
            f"[0, {vocab_size}) and differ from the CTC blank {blank}; pad labels with -100."
        )


__all__ = ["CTCTrainer", "ctc_required_frames", "encoder_frame_lengths"]
