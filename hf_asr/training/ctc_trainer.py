"""CTCTrainer: CTC fine-tuning with exact loss scaling, over-long-label skipping and WER/CER evaluation.

The model computes each utterance's CTC loss and whether its labels fit its frames (`utterance_losses`,
`feasible`, see `hf_asr.modeling.losses.ctc_utterance_losses`); this trainer only scales them into the step's loss.

Loss scaling. The loss of one optimizer step is the mean, over every usable utterance of the step (all
gradient-accumulation micro-batches, all processes), of each utterance's CTC loss (divided by its label length
when `config.ctc_loss_reduction == "mean"`, as torch's "mean"). Each micro-batch contributes
`sum_of_its_utterance_losses * world_size / N_step`, with N_step counted before the step (and gathered across
processes): DDP averages gradients over processes, so the result equals one big batch. This is exact with
unequal micro-batches too (duration batching), which dividing a per-batch mean by the accumulation steps is not.
`loss_is_scaled_for_ga = True` tells the Trainer not to divide again; the model's `accepts_loss_kwargs = False`
keeps the Trainer from multiplying by the world size itself.

Over-long labels. CTC needs `frames >= label_length + repeated_adjacent_labels`; otherwise the loss is infinite.
Such utterances are left out of the loss and of N_step and counted;
`skipped_utterances` (total since the start, all processes) is logged with every training log.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from transformers import Trainer

from ..modeling.losses import ctc_required_frames
from .base import HfAsrTrainerMixin
from .metrics import ctc_argmax_logits

logger = logging.getLogger(__name__)


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
        frames = self.model.logit_lengths(inputs["attention_mask"].sum(-1).long()).to(labels.device)
        return frames >= ctc_required_frames(labels)

    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device) -> torch.Tensor | None:
        if self._predicting or not batch_samples or "labels" not in batch_samples[0]:
            return None
        count = sum(int(self._usable(batch).sum()) for batch in batch_samples)
        total = self._gather_sum(torch.tensor([float(count)], dtype=torch.float64))
        return total[0].to(device=device, dtype=torch.float32)

    # ---- the step's scale: the model computes each utterance's loss ------------------------------------------
    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        if "labels" not in inputs:
            raise ValueError("CTCTrainer needs `labels` in every batch (use DataCollatorCTC on labelled examples).")
        outputs = model(**inputs)
        feasible = outputs.feasible
        skipped = int((~feasible).sum())
        if skipped and model.training:
            self.num_skipped_utterances += skipped
            self._skipped_pending += skipped
            logger.debug("Skipped %d utterance(s) whose labels need more CTC frames than they have.", skipped)
        loss_sum = outputs.utterance_losses.sum()  # infeasible utterances hold 0, without gradient
        if model.training and num_items_in_batch is not None:
            loss = loss_sum * self.args.world_size / torch.as_tensor(num_items_in_batch).to(loss_sum).clamp(min=1)
        else:
            loss = loss_sum / feasible.sum().to(loss_sum).clamp(min=1)
            if model.training:
                loss = loss / self.current_gradient_accumulation_steps
        return (loss, outputs) if return_outputs else loss

    def _training_logs(self) -> dict[str, float]:
        pending = self._gather_sum(self._skipped_pending.reshape(1))[0]
        self._skipped_pending = torch.zeros((), dtype=torch.float64)
        if pending > 0:
            logger.warning(
                "%d utterance(s) skipped since the last log: labels longer than their CTC frames allow.", int(pending)
            )
        if self._skipped_total is None:
            previous = [log["skipped_utterances"] for log in self.state.log_history if "skipped_utterances" in log]
            self._skipped_total = float(previous[-1]) if previous else 0.0
        self._skipped_total += float(pending)
        return {"skipped_utterances": self._skipped_total}


__all__ = ["CTCTrainer", "ctc_required_frames"]
