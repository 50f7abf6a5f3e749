"""WER/CER for `Trainer(compute_metrics=...)`: greedy CTC decoding of the eval logits, scored by `evaluate` metrics.

Scored by `hf_asr.metrics.error_rates` (the `evaluate` scripts shipped in the package, loaded by path: offline,
jiwer 4).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..metrics import error_rates


def ctc_argmax_logits(outputs: Any, labels: Any = None) -> torch.Tensor:
    """`preprocess_logits_for_metrics`: (logits (B, T, V), logit_lengths (B,)) -> (B, T) ids, -100 past each length.

    Keeps only the argmax ids across evaluation batches (not the full logits) and marks padded frames, so that a
    padded frame never decodes into a character.
    """
    if isinstance(outputs, (tuple, list)):
        logits = outputs[0]
        lengths = outputs[1] if len(outputs) > 1 and torch.is_tensor(outputs[1]) and outputs[1].ndim == 1 else None
    else:
        logits, lengths = outputs, None
    ids = logits.argmax(-1)
    if lengths is not None:
        positions = torch.arange(ids.shape[1], device=ids.device)[None, :]
        ids = ids.masked_fill(positions >= lengths.to(ids.device)[:, None], -100)
    return ids


def greedy_transcripts(processor: Any, pred_ids: np.ndarray) -> list[str]:
    """(B, T) argmax ids (-100 = padding) -> texts, collapsing repeats and blanks."""
    tokenizer = getattr(processor, "tokenizer", processor)
    ids = np.where(np.asarray(pred_ids) < 0, tokenizer.pad_token_id, pred_ids)
    return tokenizer.batch_decode(ids.tolist())


def label_transcripts(processor: Any, label_ids: np.ndarray) -> list[str]:
    """(B, S) label ids (-100 = padding) -> texts, keeping repeated letters."""
    tokenizer = getattr(processor, "tokenizer", processor)
    rows = [[int(i) for i in row if i >= 0] for row in np.asarray(label_ids)]
    return tokenizer.batch_decode(rows, group_tokens=False)


def make_compute_metrics(processor: Any, metric_names: Sequence[str] = ("wer", "cer")) -> Callable[[Any], dict]:
    """`compute_metrics` for CTCTrainer: {"wer": ..., "cer": ...} of greedy transcripts against the labels.

    Use with `preprocess_logits_for_metrics=ctc_argmax_logits` (CTCTrainer sets it when you pass compute_metrics).
    """

    def compute_metrics(prediction: Any) -> dict[str, float]:
        pred_ids = prediction.predictions
        if isinstance(pred_ids, (tuple, list)):
            pred_ids = pred_ids[0]
        if np.asarray(pred_ids).ndim == 3:  # full logits (no preprocess_logits_for_metrics)
            pred_ids = np.asarray(pred_ids).argmax(-1)
        predictions = greedy_transcripts(processor, pred_ids)
        references = label_transcripts(processor, prediction.label_ids)
        return error_rates(predictions, references, metric_names)

    return compute_metrics


__all__ = ["ctc_argmax_logits", "make_compute_metrics", "greedy_transcripts", "label_transcripts"]
