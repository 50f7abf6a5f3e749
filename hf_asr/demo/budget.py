"""A Trainer callback that stops training when its share of the demo's time budget is spent."""

from __future__ import annotations

import time

from transformers import TrainerCallback


class TimeBudgetCallback(TrainerCallback):
    """Stops training (and saves as usual) once `seconds` have passed since training began."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started: float | None = None
        self.stopped_early = False

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.monotonic()

    def on_step_end(self, args, state, control, **kwargs):
        if self.started is not None and time.monotonic() - self.started > self.seconds:
            control.should_training_stop = True
            self.stopped_early = state.global_step < state.max_steps
        return control
