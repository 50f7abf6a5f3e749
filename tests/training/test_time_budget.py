"""TimeBudget: the learning-rate schedule runs on elapsed time as well as steps, and training stops on time."""

import pytest

from hf_asr.training import finetune
from hf_asr.training import time_budget as time_budget_module
from hf_asr.training.time_budget import TimeBudget

from .runs import make_processor, quiet_tiny_config
from .synthetic import tone_corpus


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_progress_is_the_larger_of_steps_and_time(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(time_budget_module.time, "monotonic", clock)
    budget = TimeBudget(60.0, warmup=0.1)
    assert budget.progress(5, 10) == 0.5  # not started: steps only
    budget.start()
    clock.now += 30
    assert budget.progress(1, 100) == 0.5 and budget.progress(80, 100) == 0.8
    clock.now += 60
    assert budget.progress(1, 100) == 1.0
    assert budget.lr_factor(0.05) == pytest.approx(0.5)  # warm-up
    assert budget.lr_factor(0.1) == pytest.approx(1.0) and budget.lr_factor(0.55) == pytest.approx(0.5)
    assert budget.lr_factor(1.0) == 0.0
    assert TimeBudget(1.0, warmup=0.0, decay="cosine").lr_factor(0.5) == pytest.approx(0.5)
    for bad in (dict(seconds=0), dict(seconds=1, warmup=1.0), dict(seconds=1, decay="step")):
        with pytest.raises(ValueError):
            TimeBudget(**bad)


def test_training_stops_on_time_with_the_schedule_run_out(tmp_path):
    budget = TimeBudget(4.0, warmup=0.2)
    model, history = finetune(
        tone_corpus(copies=1),
        make_processor(),
        None,
        str(tmp_path),
        100_000,
        config=quiet_tiny_config(),
        per_device_batch_size=4,
        learning_rate=1e-3,
        logging_steps=1,
        device="cpu",
        time_budget=budget,
        disable_tqdm=True,
    )
    logs = [h for h in history if "learning_rate" in h]
    steps = max(h["step"] for h in history if "step" in h)
    assert 1 <= steps < 100_000 and budget.elapsed() >= 4.0
    peak = max(h["learning_rate"] for h in logs)
    assert peak <= 1e-3 and logs[-1]["learning_rate"] < 0.5 * peak  # decayed along the time budget


def test_the_progress_bar_counts_towards_the_steps_the_budget_allows(monkeypatch):
    from types import SimpleNamespace

    from transformers import TrainerControl

    from hf_asr.training.time_budget import TimeBudgetCallback

    clock = FakeClock()
    monkeypatch.setattr(time_budget_module.time, "monotonic", clock)
    bar = SimpleNamespace(total=100_000, refreshed=0)
    bar.refresh = lambda: setattr(bar, "refreshed", bar.refreshed + 1)
    callback = TimeBudgetCallback(TimeBudget(60.0), progress=SimpleNamespace(training_bar=bar))
    callback.on_train_begin(None, None, TrainerControl())
    clock.now += 15  # a quarter of the budget gone after 50 steps: 200 steps expected, not the 100,000 ceiling
    control = callback.on_step_end(None, SimpleNamespace(global_step=50, max_steps=100_000), TrainerControl())
    assert bar.total == 200 and bar.refreshed == 1 and not control.should_training_stop
    clock.now += 45
    control = callback.on_step_end(None, SimpleNamespace(global_step=190, max_steps=100_000), TrainerControl())
    assert bar.total == 190 and control.should_training_stop  # the budget is spent: the bar ends where it stops
