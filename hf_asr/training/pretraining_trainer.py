"""PretrainingTrainer: wav2vec 2.0 contrastive pretraining of `LogMelWav2Vec2ForPreTraining`.

Loss scaling. The model returns, per micro-batch, `contrastive_sum / n + w · diversity` (n = its masked frames).
The loss of one optimizer step is, as in wav2vec 2.0 / fairseq, `Σ (contrastive_sum + w · diversity · n) / N`
over all micro-batches of the step and all processes, N = all their masked frames (counted from the collated
`mask_time_indices` before the step and gathered across processes). Each micro-batch contributes
`model_loss · n · world_size / N` (DDP averages gradients over processes). With masks drawn by the model instead
of the collator, each micro-batch loss is divided by the accumulation steps.

Logged with each training log: codevector_perplexity, contrastive_accuracy (weighted by masked frames),
contrastive_loss, diversity_loss, num_masked_frames (per step) and gumbel_temperature.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import Trainer

from .base import HfAsrTrainerMixin
from .callbacks import CodebookCollapseCallback, GumbelTemperatureCallback, _unwrap


class PretrainingTrainer(HfAsrTrainerMixin, Trainer):
    """`transformers.Trainer` for contrastive pretraining (see the module docstring).

    Adds a `GumbelTemperatureCallback` unless one is given, and puts any `CodebookCollapseCallback` first so that
    its `codebook_collapsed` flag reaches the reporters. Use `DataCollatorPretraining` for seeded, resumable masks.
    Extra keyword arguments: `max_seconds_per_batch`, `duration_column`.
    """

    loss_is_scaled_for_ga = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        callbacks = self.callback_handler.callbacks
        if not any(isinstance(cb, GumbelTemperatureCallback) for cb in callbacks):
            self.add_callback(GumbelTemperatureCallback())
        for callback in [cb for cb in callbacks if isinstance(cb, CodebookCollapseCallback)]:
            callbacks.remove(callback)
            callbacks.insert(0, callback)
        self.can_return_loss = True  # evaluation reports eval_loss although the model takes no labels
        self._masked_frames_in_step = 0.0

    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device) -> torch.Tensor | None:
        if self._predicting or not batch_samples or "mask_time_indices" not in batch_samples[0]:
            return None
        count = sum(float(batch["mask_time_indices"].sum()) for batch in batch_samples)
        total = self._gather_sum(torch.tensor([count], dtype=torch.float64))[0]
        self._record("num_masked_frames", total)
        return total.to(device=device, dtype=torch.float32)

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        outputs = model(**inputs)
        loss = outputs.loss  # per masked frame of this micro-batch
        masked = outputs.num_masked_frames.to(loss.dtype)
        if model.training:
            if num_items_in_batch is not None:
                loss = loss * masked * self.args.world_size / torch.as_tensor(num_items_in_batch).to(loss).clamp(min=1)
            else:
                loss = loss / self.current_gradient_accumulation_steps
            self._record("contrastive_loss", outputs.contrastive_loss, masked)
            self._record("contrastive_accuracy", outputs.contrastive_accuracy, masked)
            self._record("diversity_loss", outputs.diversity_loss)
            self._record("codevector_perplexity", outputs.codevector_perplexity)
        return (loss, outputs) if return_outputs else loss

    def _training_logs(self) -> dict[str, float]:
        quantizer = getattr(_unwrap(self.model), "quantizer", None)
        return {"gumbel_temperature": float(quantizer.temperature)} if quantizer is not None else {}


__all__ = ["PretrainingTrainer"]
