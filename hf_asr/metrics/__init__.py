"""WER/CER as `evaluate` metrics shipped with hf_asr and loaded by path (works offline; jiwer 4 API).

`evaluate.load("wer")` fetches the Hub script, which fails offline and calls `jiwer.compute_measures`, removed
in jiwer 4; these scripts compute the same corpus-level rates with `jiwer.wer`/`jiwer.cer`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import evaluate

METRICS_DIR = Path(__file__).resolve().parent
METRIC_NAMES = ("wer", "cer")


def metric_script(name: str) -> Path:
    """Path of the evaluate script for `name` ("wer" or "cer")."""
    if name not in METRIC_NAMES:
        raise ValueError(f"unknown metric {name!r}; hf_asr ships {METRIC_NAMES}")
    return METRICS_DIR / name / f"{name}.py"


def load_metric(name: str) -> evaluate.EvaluationModule:
    """`evaluate.load` on the shipped script of `name` ("wer" or "cer")."""
    return evaluate.load(str(metric_script(name)))


@functools.cache
def _loaded(name: str) -> evaluate.EvaluationModule:
    return load_metric(name)


def error_rates(
    predictions: Sequence[str], references: Sequence[str], names: Sequence[str] = METRIC_NAMES
) -> dict[str, float]:
    """Corpus-level rates of `predictions` against `references`, e.g. {"wer": 0.12, "cer": 0.04}.

    The one place hf_asr scores transcripts: training evaluation, α/β tuning, `evaluate_ctc` and the demo.
    """
    if len(predictions) != len(references):
        raise ValueError(f"got {len(predictions)} predictions for {len(references)} references")
    return {
        name: float(_loaded(name).compute(predictions=list(predictions), references=list(references))) for name in names
    }


__all__ = ["load_metric", "metric_script", "error_rates", "METRIC_NAMES"]
