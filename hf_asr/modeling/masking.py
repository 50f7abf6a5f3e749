"""Span masks over frames and sampled negatives: the only copies, used by the model and the collators.

Every draw takes an optional `torch.Generator`, so collators can reproduce masks exactly (resume, DDP).
"""

from __future__ import annotations

import torch


def compute_span_mask(
    lengths: torch.Tensor,
    max_length: int,
    mask_prob: float,
    span_length: int,
    min_masks: int = 0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Random spans of `span_length` frames inside each utterance's valid frames.

    The number of spans per utterance is round-randomly mask_prob * length / span_length (at least
    `min_masks`); spans may overlap, as in wav2vec 2.0. Padding (frames >= length) is never masked.

    Args:
        lengths: (B,) valid frames per utterance.
    Returns:
        (B, max_length) bool, True on masked frames.
    """
    lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
    mask = torch.zeros(len(lengths), max_length, dtype=torch.bool)
    if mask_prob <= 0 and min_masks <= 0:
        return mask
    for row, length in enumerate(lengths.tolist()):
        if length <= 0:
            continue
        span = min(span_length, length)
        wanted = mask_prob * length / span + torch.rand((), generator=generator).item()
        num_spans = max(min_masks, int(wanted))
        num_starts = length - span + 1
        num_spans = min(num_spans, num_starts)
        if num_spans <= 0:
            continue
        starts = torch.randperm(num_starts, generator=generator)[:num_spans]
        frames = (starts[:, None] + torch.arange(span)[None, :]).flatten()
        mask[row, frames] = True
    return mask


def sample_negative_indices(
    mask: torch.Tensor, lengths: torch.Tensor, num_negatives: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """For each masked frame t of utterance b, `num_negatives` other frames of b, drawn uniformly.

    Negatives come from the utterance's valid frames, never from padding and never t itself
    (drawn from length - 1 frames, then shifted past t). An utterance of one frame has no other
    frame: its negatives point at t, and the contrastive loss ignores negatives equal to the positive.

    Args:
        mask: (B, T) bool masked frames.
        lengths: (B,) valid frames.
    Returns:
        (B, T, num_negatives) long frame indices; rows of unmasked frames are 0.
    """
    batch, time = mask.shape
    lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
    high = (lengths - 1).clamp(min=1).to(torch.float64)  # (B,)
    draws = torch.rand(batch, time, num_negatives, generator=generator, dtype=torch.float64)
    indices = (draws * high[:, None, None]).floor().long()
    positions = torch.arange(time)[None, :, None]
    indices = indices + (indices >= positions).long()
    indices = torch.minimum(indices, (lengths - 1).clamp(min=0)[:, None, None])
    return indices * mask.cpu()[:, :, None].long()
