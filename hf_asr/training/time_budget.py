"""Training that fits a wall-clock budget: the learning-rate schedule runs on elapsed time as well as on steps.

A fixed step count cannot promise a duration on an unknown machine, and stopping a step-based schedule early
leaves the learning rate high. `TimeBudget` makes progress = max(step / max_steps, elapsed / seconds): warm-up,
then linear or cosine decay to zero, finishing exactly when the budget (or the step ceiling) runs out, at whatever
speed the machine trains. Pass it to a trainer as `time_budget=` (both hf_asr trainers take it).
"""

from __future__ import annotations

import math
import time
from typing import Any

from transformers import TrainerCallback


def training_progress(step: int, max_steps: int, budget: TimeBudget | None = None) -> float:
    """In [0, 1]: the step fraction, or under a `budget` the larger of it and the time fraction."""
    if budget is not None:
        return budget.progress(step, max_steps)
    return min(1.0, step / max_steps) if max_steps > 0 else 0.0


class TimeBudget:
    """Progress of a run bounded by `seconds` of training and the trainer's max_steps.

    warmup: fraction of the progress spent warming the learning rate up from 0; decay: "linear" or "cosine".
    """

    def __init__(self, seconds: float, warmup: float = 0.1, decay: str = "linear") -> None:
        if not seconds > 0:
            raise ValueError(f"a time budget must be positive, got {seconds} seconds")
        if not 0 <= warmup < 1:
            raise ValueError(f"warmup must be a fraction in [0, 1), got {warmup}")
        if decay not in ("linear", "cosine"):
            raise ValueError(f"decay must be 'linear' or 'cosine', got {decay!r}")
        self.seconds, self.warmup, self.decay = float(seconds), float(warmup), decay
        self.started: float | None = None

    def start(self) -> None:
        """Start the clock (once: a budget started before data preparation also pays for it)."""
        if self.started is None:
            self.started = time.monotonic()

    def elapsed(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started

    def progress(self, step: int, max_steps: int) -> float:
        """In [0, 1]: the larger of the step fraction and the time fraction."""
        return min(1.0, max(training_progress(step, max_steps), self.elapsed() / self.seconds))

    def lr_factor(self, progress: float) -> float:
        """Multiplier of the peak learning rate at `progress`."""
        if progress < self.warmup:
            return progress / self.warmup
        rest = (progress - self.warmup) / (1.0 - self.warmup)
        if self.decay == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * rest))
        return max(0.0, 1.0 - rest)


class TimeBudgetCallback(TrainerCallback):
    """Starts the budget when training begins and stops training once it is spent (saving as usual).

    `progress`: the trainer's `ProgressCallback`, whose bar would otherwise count towards the max_steps ceiling (an
    ETA of hours for a 10-minute budget): its total becomes the steps expected by the time the budget runs out.
    """

    def __init__(self, budget: TimeBudget, progress: Any = None) -> None:
        self.budget = budget
        self.progress = progress

    def on_train_begin(self, args, state, control, **kwargs):
        self.budget.start()

    def on_step_end(self, args, state, control, **kwargs):
        progress = self.budget.progress(state.global_step, state.max_steps)
        if progress >= 1.0:
            control.should_training_stop = True
        self._show_expected_steps(state.global_step, progress)
        return control

    def _show_expected_steps(self, step: int, progress: float) -> None:
        bar = getattr(self.progress, "training_bar", None)
        if bar is None or not progress > 0:
            return
        expected = max(step, round(step / progress))
        if expected != bar.total:
            bar.total = expected
            bar.refresh()


__all__ = ["TimeBudget", "TimeBudgetCallback", "training_progress"]
