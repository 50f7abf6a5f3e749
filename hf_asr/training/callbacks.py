"""Trainer callbacks of wav2vec 2.0: Gumbel temperature annealing and the codebook-collapse alarm (pretraining), the
head-only first stage of fine-tuning."""

from __future__ import annotations

import logging
import math
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from ..modeling.value_rules import LEADING_FRACTION, check_value
from .time_budget import training_progress

logger = logging.getLogger(__name__)


def _unwrap(model: Any) -> Any:
    while hasattr(model, "module"):  # DDP / accelerate wrappers
        model = model.module
    return model


class GumbelTemperatureCallback(TrainerCallback):
    """Sets the quantizer's Gumbel temperature to `model.gumbel_temperature_at(global_step)` after every optimizer
    step (wav2vec 2.0: max(2 · 0.999995^step, 0.5)), and at the start of training (so a resumed run continues
    the schedule where it stopped)."""

    def _apply(self, state: TrainerState, model: Any) -> None:
        model = _unwrap(model)
        if model is not None and hasattr(model, "set_gumbel_temperature"):
            model.set_gumbel_temperature(model.gumbel_temperature_at(state.global_step))

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        self._apply(state, kwargs.get("model"))

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        self._apply(state, kwargs.get("model"))


class CodebookCollapseCallback(TrainerCallback):
    """Warns, and logs `codebook_collapsed=1`, when the codebook looks collapsed for `patience` logging steps in a row.

    Collapsed means: `codevector_perplexity` within `perplexity_tolerance` (relative) of its floor, the number of
    groups G (every frame uses one codevector per group), or `contrastive_accuracy` within `accuracy_tolerance`
    (absolute) of chance, 1 / (K + 1). Each training log gets `codebook_collapsed` (0 or 1) once the statistics are
    there. The flag is written into the log (and `state.log_history`) before later callbacks (reporters) see it:
    PretrainingTrainer puts this callback first.
    """

    def __init__(
        self,
        num_groups: int,
        num_negatives: int,
        patience: int = 20,
        perplexity_tolerance: float = 0.1,
        accuracy_tolerance: float = 0.02,
    ) -> None:
        self.floor = float(num_groups)
        self.chance = 1.0 / (num_negatives + 1)
        self.patience = int(patience)
        self.perplexity_tolerance = float(perplexity_tolerance)
        self.accuracy_tolerance = float(accuracy_tolerance)
        self.low_perplexity_logs = 0
        self.chance_accuracy_logs = 0
        self.collapsed = False

    def update(self, logs: dict[str, float]) -> bool | None:
        """Feed one log; returns whether the alarm is on (None when the log holds no codebook statistics)."""
        perplexity, accuracy = logs.get("codevector_perplexity"), logs.get("contrastive_accuracy")
        if perplexity is None and accuracy is None:
            return None
        if perplexity is not None and math.isfinite(perplexity):
            low = perplexity <= self.floor * (1 + self.perplexity_tolerance)
            self.low_perplexity_logs = self.low_perplexity_logs + 1 if low else 0
        if accuracy is not None and math.isfinite(accuracy):
            at_chance = abs(accuracy - self.chance) <= self.accuracy_tolerance
            self.chance_accuracy_logs = self.chance_accuracy_logs + 1 if at_chance else 0
        collapsed = max(self.low_perplexity_logs, self.chance_accuracy_logs) >= self.patience
        if collapsed and not self.collapsed:
            logger.warning(
                "Codebook collapse suspected: for %d logging steps the codevector perplexity stayed near its floor %g "
                "(last %.3g) or the contrastive accuracy at chance %.3g (last %s). Try a larger diversity_loss_weight, "
                "a lower learning rate, or check the masking.",
                self.patience,
                self.floor,
                perplexity if perplexity is not None else float("nan"),
                self.chance,
                f"{accuracy:.3g}" if accuracy is not None else "n/a",
            )
        self.collapsed = collapsed
        return collapsed

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: Any,
    ):
        if not logs:
            return
        collapsed = self.update(logs)
        if collapsed is None:
            return
        logs["codebook_collapsed"] = int(collapsed)
        if state.log_history and state.log_history[-1].get("step") == state.global_step:
            state.log_history[-1]["codebook_collapsed"] = int(collapsed)


class FrozenBaseModelCallback(TrainerCallback):
    """Fine-tuning trains the CTC head alone for the first `fraction` of training, then the whole model: wav2vec 2.0's
    `freeze_finetune_updates` (the head learns to read a pretrained encoder before its gradients reach the encoder).

    Progress: the step fraction, or under a `TimeBudget` the larger of it and the time fraction. Applied when each
    step begins: the Trainer builds its optimizer after `on_train_begin`, and the optimizer must hold the encoder's
    parameters. Frozen parameters get no gradient, so the optimizer leaves them (and their moments) untouched.
    """

    def __init__(self, fraction: float, time_budget: Any = None) -> None:
        check_value("freeze_base_model_fraction", fraction, LEADING_FRACTION)
        self.fraction = float(fraction)
        self.time_budget = time_budget

    def on_step_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        model = _unwrap(kwargs.get("model"))
        frozen = training_progress(state.global_step, state.max_steps, self.time_budget) < self.fraction
        if model is not None and frozen != model.base_model_frozen:
            model.freeze_base_model(frozen)
            logger.info("Step %d: %s", state.global_step, "CTC head alone" if frozen else "whole model trained")

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any):
        model = _unwrap(kwargs.get("model"))
        if model is not None and model.base_model_frozen:
            model.freeze_base_model(False)  # the returned model trains as a whole


__all__ = ["GumbelTemperatureCallback", "CodebookCollapseCallback", "FrozenBaseModelCallback"]
