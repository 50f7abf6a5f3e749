"""The demo's figures (PNG): training curves, log-mel + CTC posteriors + word timestamps, codebook usage."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # writes files only: needs no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from ..modeling.losses import codevector_perplexity  # noqa: E402

FRAME_SECONDS = 0.01  # log-mel hop at 16 kHz


def _series(log_history: Sequence[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    points = [(entry["step"], entry[key]) for entry in log_history if key in entry and "step" in entry]
    return [p[0] for p in points], [p[1] for p in points]


def _label_panel(axis: Any, title: str, xlabel: str) -> None:
    """Title, x label and grid of a curves panel; a legend when it has lines."""
    axis.set_title(title)
    axis.set_xlabel(xlabel)
    axis.grid(alpha=0.3)
    if axis.lines:
        axis.legend()


def _save(fig: Any, path: Path) -> None:
    """Write the figure as a PNG and free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_training_curves(pretrain_log: Sequence[dict], finetune_log: Sequence[dict], path: Path) -> None:
    """2×2: pretraining loss, codevector perplexity, CTC loss, validation WER/CER, each against its steps."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    panels = [
        (axes[0, 0], pretrain_log, ["loss", "contrastive_loss"], "pretraining loss (per masked frame)"),
        (axes[0, 1], pretrain_log, ["codevector_perplexity"], "codevector perplexity"),
        (axes[1, 0], finetune_log, ["loss", "eval_loss"], "CTC loss"),
        (axes[1, 1], finetune_log, ["eval_wer", "eval_cer"], "validation error rate (greedy)"),
    ]
    for axis, log, keys, title in panels:
        for key in keys:
            steps, values = _series(log, key)
            if steps:
                axis.plot(steps, values, marker="." if len(steps) < 30 else None, label=key)
        _label_panel(axis, title, "optimizer step")
    _save(fig, path)


def validation_curve(log_history: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
    """The evaluations of a fine-tuning log: [{step, eval_loss, eval_wer, eval_cer}], in step order."""
    keys = ("eval_loss", "eval_wer", "eval_cer")
    return [
        {"step": entry["step"], **{key: entry[key] for key in keys if key in entry}}
        for entry in log_history
        if "step" in entry and "eval_loss" in entry
    ]


def plot_validation_by_arm(curves: dict[str, Sequence[dict[str, float]]], path: Path) -> None:
    """1×2: validation CTC loss and greedy CER against the fine-tuning step, one line per arm (e.g. pretrained
    encoder vs random weights): where one arm leads, and whether the other catches up."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, key, title in ((axes[0], "eval_loss", "validation CTC loss"), (axes[1], "eval_cer", "validation CER")):
        for arm, curve in curves.items():
            steps, values = _series(curve, key)
            if steps:
                axis.plot(steps, values, marker=".", label=arm)
        _label_panel(axis, title, "fine-tuning step")
    _save(fig, path)


def plot_posteriors(
    features: np.ndarray,
    posteriors: np.ndarray,
    tokenizer: Any,
    chunks: Sequence[dict[str, Any]],
    reference: str,
    path: Path,
) -> None:
    """Log-mel (T_mel, n_mels) above CTC posteriors (T, V) on a shared time axis, word timestamps underneath."""
    duration = features.shape[0] * FRAME_SECONDS
    labels = tokenizer.convert_ids_to_tokens(list(range(posteriors.shape[1])))
    fig, axes = plt.subplots(3, 1, figsize=(12, 8), sharex=True, gridspec_kw={"height_ratios": [3, 3, 1]})
    axes[0].imshow(features.T, origin="lower", aspect="auto", extent=(0, duration, 0, features.shape[1]))
    axes[0].set_ylabel("mel bin")
    axes[0].set_title(f"log-mel spectrogram — reference: “{reference}”")
    axes[1].imshow(
        posteriors.T, origin="lower", aspect="auto", cmap="magma", extent=(0, duration, 0, posteriors.shape[1])
    )
    axes[1].set_yticks(np.arange(len(labels)) + 0.5)
    axes[1].set_yticklabels(["␣" if t == "|" else "∅" if t == "<pad>" else t for t in labels], fontsize=6)
    axes[1].set_ylabel("CTC posterior")
    for chunk in chunks:
        start, end = chunk["timestamp"]
        axes[2].axvspan(start, end, alpha=0.25)
        axes[2].text((start + end) / 2, 0.5, chunk["text"], ha="center", va="center", fontsize=9)
    axes[2].set_yticks([])
    axes[2].set_ylabel("words")
    axes[2].set_xlabel("time (s)")
    _save(fig, path)


@torch.no_grad()
def codebook_usage(model: Any, feature_extractor: Any, waveforms: Sequence[np.ndarray]) -> np.ndarray:
    """(G, V) how often each codevector of each group is chosen (argmax) over the frames of `waveforms`.

    Each row sums to the number of encoder frames of `waveforms`.
    """
    model.eval()
    quantizer = model.quantizer
    counts = np.zeros((quantizer.num_groups, quantizer.num_vars), dtype=np.int64)
    groups = np.arange(quantizer.num_groups)
    for wave in waveforms:
        inputs = feature_extractor(wave, sampling_rate=16000, return_tensors="pt").to(model.device)
        codes = model.codevector_ids(**inputs).flatten(0, 1).cpu().numpy()  # (T, G), -1 on padding
        np.add.at(counts, (groups, codes[(codes >= 0).all(-1)]), 1)
    return counts


def plot_codebook_usage(model: Any, feature_extractor: Any, waveforms: Sequence[np.ndarray], path: Path) -> None:
    """Bar chart per group of codevector usage, sorted, with each group's perplexity in the title."""
    counts = codebook_usage(model, feature_extractor, waveforms)
    fig, axes = plt.subplots(1, len(counts), figsize=(6 * len(counts), 3.5), squeeze=False)
    for group, (axis, row) in enumerate(zip(axes[0], counts)):
        usage = torch.from_numpy(row / max(row.sum(), 1))[None, None]  # (1 frame, 1 group, V)
        perplexity = float(codevector_perplexity(usage))
        axis.bar(np.arange(len(row)), np.sort(row)[::-1])
        used = int((row > 0).sum())
        axis.set_title(f"group {group}: {used}/{len(row)} codevectors used, perplexity {perplexity:.1f}")
        axis.set_xlabel("codevector (sorted by use)")
        axis.set_ylabel("frames")
    _save(fig, path)
