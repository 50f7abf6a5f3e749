"""`hf-asr demo`: the whole system end to end, timed, with a report, plots and a Hub-ready folder.

Stages (`stages.py`): corpus (TTS, reused when its recipe matches) -> contrastive pretraining -> CTC fine-tuning
-> KenLM + α/β tuning -> test evaluation on unseen and seen voices -> saved model folder -> pipeline()
transcription with word timestamps -> plots -> report.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from . import stages
from .report import model_card, write_report
from .settings import DemoSettings


class _Clock:
    """Stage timings against the demo's budget."""

    def __init__(self, budget_seconds: float) -> None:
        self.started = self.lap_started = time.monotonic()
        self.budget = budget_seconds
        self.seconds: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(now - self.lap_started, 1)
        self.lap_started = now
        print(f"[demo] {name}: {self.seconds[name]} s", flush=True)

    def left(self) -> float:
        return self.budget - (time.monotonic() - self.started)

    def total(self) -> float:
        return round(time.monotonic() - self.started, 1)


def run_demo(settings: DemoSettings) -> dict[str, Any]:
    """Run every stage; write OUT/report.json, OUT/report.md, OUT/plots/*.png and OUT/model; return the report."""
    if not settings.minutes > 0:
        raise ValueError(f"the demo's time budget must be positive, got --minutes {settings.minutes}")
    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(settings.seed)
    clock = _Clock(settings.minutes * 60)

    data = stages.corpus_stage(settings, out)
    clock.lap("corpus")
    training_seconds = max(20.0, clock.left() - settings.reserve_seconds)
    pretrained, pretrain_log = stages.pretraining_stage(settings, out, data, settings.pretrain_share * training_seconds)
    clock.lap("pretraining")
    model, finetune_log = stages.finetuning_stage(
        settings, out, data, pretrained, max(15.0, clock.left() - settings.reserve_seconds)
    )
    clock.lap("fine-tuning")
    decoder, tuning, lm_vocabulary_size = stages.language_model_stage(settings, out, data, model)
    print(tuning.table(), flush=True)
    clock.lap("language model")
    evaluations = stages.evaluation_stage(settings, data, model, decoder)
    clock.lap("evaluation")

    test = evaluations["test"]
    report: dict[str, Any] = {
        **test.scores,
        "n_test_utterances": len(test.references),
        "seen_voices": evaluations["test_seen_voices"].scores if "test_seen_voices" in evaluations else None,
        "per_voice": stages.per_voice_table(evaluations),
        "train_voices": stages.voices_of(data.info, "train"),
        "test_voices": stages.voices_of(data.info, "test"),
        "open_vocabulary": True,
        "lm_vocabulary_size": lm_vocabulary_size,
        "augmentation": augmentation.to_json() if (augmentation := settings.augmentation()) else None,
        "curves": {"pretraining": _curve(pretrain_log), "fine-tuning": _curve(finetune_log)},
        "pretrain_steps": _last_step(pretrain_log),
        "finetune_steps": _last_step(finetune_log),
        "lm": {
            "order": settings.lm_order,
            "word_list": settings.lm_word_list,
            "alpha": tuning.alpha,
            "beta": tuning.beta,
            "validation_wer": tuning.wer,
        },
        "corpus": {
            **data.info["splits"],
            "hours": data.info["hours"],
            "synthesis_seconds": data.info["synthesis_seconds"],
        },
        "device": "cuda" if settings.device != "cpu" and torch.cuda.is_available() else "cpu",
        "preset": settings.preset,
        "settings": settings.to_json(),
        "examples": [
            {"speaker": s, "reference": r, "greedy": g, "lm": lm}
            for s, r, g, lm in zip(test.speakers, test.references, test.greedy, test.lm)
        ][:8],
    }
    report["test_voices_unseen"] = not set(report["train_voices"]) & set(report["test_voices"])
    report["step_seconds"] = clock.seconds
    stages.save_stage(out, model, data.processor, decoder, model_card(report, settings))
    clock.lap("saving")
    sample = stages.pipeline_stage(out, data, stages.training_device(settings))
    for chunk in sample["chunks"]:
        print(f"         {chunk['timestamp'][0]:6.2f}–{chunk['timestamp'][1]:6.2f} s  {chunk['text']}", flush=True)
    clock.lap("pipeline")
    report["plots"] = stages.plots_stage(out, data, model, pretrained, (pretrain_log, finetune_log), sample)
    clock.lap("plots")
    report["pipeline_sample"] = {k: sample[k] for k in ("path", "speaker", "reference", "text", "chunks")}
    report["step_seconds"] = clock.seconds
    report["seconds"] = clock.total()
    write_report(report, out)
    return report


def _curve(log_history: list[dict[str, Any]]) -> list[dict[str, float]]:
    """The logged losses and validation scores, step by step (for sweeps and later plots)."""
    keys = ("loss", "eval_loss", "eval_wer", "eval_cer", "learning_rate", "contrastive_accuracy")
    return [
        {"step": e["step"], **{k: e[k] for k in keys if k in e}}
        for e in log_history
        if "step" in e and any(k in e for k in keys)
    ]


def _last_step(log_history: list[dict[str, Any]]) -> int:
    return int(max((entry.get("step", 0) for entry in log_history), default=0))
