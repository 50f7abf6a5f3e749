"""WER/CER as `evaluate` metrics shipped with hf_asr and loaded by path (works offline; jiwer 4 API).

`evaluate.load("wer")` fetches the Hub script, which fails offline and calls `jiwer.compute_measures`, removed
in jiwer 4; these scripts compute the same corpus-level rates with `jiwer.wer`/`jiwer.cer`.
"""

from __future__ import annotations

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


__all__ = ["load_metric", "metric_script", "METRIC_NAMES"]
