"""Run a CTC model once over many utterances and keep each utterance's logits (for LM tuning and benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..modeling.decoder_options import positive_int


@torch.inference_mode()
def compute_logits(
    model: Any,
    feature_extractor: Any,
    waveforms: Sequence[np.ndarray],
    sampling_rate: int,
    batch_size: int = 8,
    progress: bool = True,
) -> list[np.ndarray]:
    """Logits (T_i, V) float32 of each 1-D waveform, trimmed to the model's `logit_lengths`, in input order.

    Utterances are batched by similar length (sorted) so that padding stays small.
    """
    batch_size = positive_int("batch_size", batch_size)
    model.eval()
    order = sorted(range(len(waveforms)), key=lambda i: len(waveforms[i]))
    results: list[np.ndarray | None] = [None] * len(waveforms)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    device = next(model.parameters()).device
    for batch in tqdm(batches, desc="computing logits", unit="batch", disable=not progress):
        features = feature_extractor(
            [np.asarray(waveforms[i], dtype=np.float32) for i in batch],
            sampling_rate=sampling_rate,
            padding=True,
            return_attention_mask=True,
            return_tensors="pt",
        ).to(device)
        outputs = model(**features)
        logits = outputs.logits.float().cpu().numpy()
        lengths = outputs.logit_lengths.cpu().tolist()
        for row, index in enumerate(batch):
            results[index] = logits[row, : lengths[row]]
    return results  # type: ignore[return-value]
