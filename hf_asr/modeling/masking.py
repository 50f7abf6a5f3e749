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
    device = generator.device if generator is not None else torch.as_tensor(lengths).device
    lengths = torch.as_tensor(lengths, dtype=torch.long).to(device)
    batch = lengths.shape[0]
    if mask_prob <= 0 and min_masks <= 0:
        return torch.zeros(batch, max_length, dtype=torch.bool, device=device)
    # Tensor ops only (no per-utterance loop, no .item()): torch.compile traces it without a graph break.
    spans = lengths.clamp(min=1, max=span_length)  # (B,) a short utterance gets one span over all of it
    num_starts = (lengths - spans + 1).clamp(min=0)  # (B,) admissible span starts
    wanted = mask_prob * lengths / spans + _uniform((batch,), generator, device)
    num_spans = torch.minimum(wanted.long().clamp(min=min_masks), num_starts)  # (B,)
    # A uniform draw of num_spans distinct starts: the num_spans best random scores among admissible starts.
    positions = torch.arange(max_length, device=device)
    scores = _uniform((batch, max_length), generator, device)
    scores = scores.masked_fill(positions[None, :] >= num_starts[:, None], -1.0)
    ranks = scores.argsort(dim=-1, descending=True).argsort(dim=-1)  # (B, T) rank of each start
    starts = ranks < num_spans[:, None]  # (B, T) bool
    # Frame t is masked when a start lies in (t - span, t]: a running count of starts, differenced over the span.
    counts = torch.nn.functional.pad(starts.long().cumsum(-1), (1, 0))  # (B, T + 1)
    window_begin = (positions[None, :] + 1 - spans[:, None]).clamp(min=0)  # (B, T)
    covered = counts[:, 1:] - counts.gather(1, window_begin)
    return covered > 0


def _uniform(shape: tuple, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """torch.rand of `shape`; the generator is passed only when there is one: torch.compile cannot trace
    `generator=None` with symbolic (dynamic) sizes."""
    if generator is None:
        return torch.rand(shape, device=device)
    return torch.rand(shape, generator=generator, device=device)


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
