"""Positional information for the Transformer, selected by `config.position_embedding`.

- "conv": wav2vec 2.0's grouped convolution over time with weight norm (the reference; on GPUs its grouped
  convolution is the costliest kernel of a step).
- "depthwise": a depthwise convolution (one filter per channel) followed by a pointwise linear map: the same
  receptive field for a small fraction of the multiply-adds.
- "rotary": rotary position embedding of queries and keys in every attention layer (no convolution at all).
"""

from __future__ import annotations

import torch
from torch import nn

from .configuration import POSITION_EMBEDDINGS


class ConvPositionalEmbedding(nn.Module):
    """Conv over time with weight norm: a relative position signal added to the input.

    `groups=hidden_size` with `pointwise=True` is the depthwise-separable form.
    """

    def __init__(self, hidden_size: int, kernel: int, groups: int, pointwise: bool = False) -> None:
        super().__init__()
        conv = nn.Conv1d(hidden_size, hidden_size, kernel, padding=kernel // 2, groups=groups)
        self.conv = nn.utils.parametrizations.weight_norm(conv, name="weight", dim=2)
        self.pointwise = nn.Linear(hidden_size, hidden_size) if pointwise else None
        self.trim_last = kernel % 2 == 0  # an even kernel with padding k//2 yields one extra frame
        self.activation = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, C) with padded frames zeroed -> (B, T, C)."""
        y = self.conv(x.transpose(1, 2))
        if self.trim_last:
            y = y[..., :-1]
        y = y.transpose(1, 2)
        if self.pointwise is not None:
            y = self.pointwise(y)
        return self.activation(y)


class RotaryEmbedding(nn.Module):
    """Rotation angles of RoPE (Su et al., 2021) for one head size; `apply_rotary` turns queries and keys."""

    def __init__(self, head_dim: int, base: float = 10000.0) -> None:
        super().__init__()
        if head_dim % 2:
            raise ValueError(f"rotary position embedding needs an even head size, got {head_dim}")
        # Frequencies are recomputed per call rather than kept in a buffer: from_pretrained builds modules on the
        # meta device and would leave a non-persistent buffer uninitialised.
        self.head_dim, self.base = head_dim, base

    def forward(self, time: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """-> cos, sin, each (T, head_dim / 2), for frames 0 .. T-1 (padding sits at the end, so every
        utterance of a batch gets the positions it would get alone)."""
        exponents = torch.arange(0, self.head_dim, 2, device=device, dtype=torch.float32) / self.head_dim
        angles = torch.arange(time, device=device, dtype=torch.float32)[:, None] * self.base ** -exponents[None, :]
        return angles.cos().to(dtype), angles.sin().to(dtype)


def apply_rotary(x: torch.Tensor, rotary: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """x: (B, H, T, d) queries or keys; rotary: cos, sin (T, d/2) -> x with channel pairs (i, i + d/2) rotated."""
    cos, sin = rotary
    first, second = x.chunk(2, dim=-1)
    return torch.cat((first * cos - second * sin, first * sin + second * cos), dim=-1)


def build_positional_embedding(kind: str, hidden_size: int, kernel: int, groups: int) -> ConvPositionalEmbedding | None:
    """The additive positional module for `kind`, or None for "rotary" (which acts inside attention)."""
    if kind == "conv":
        return ConvPositionalEmbedding(hidden_size, kernel, groups)
    if kind == "depthwise":
        return ConvPositionalEmbedding(hidden_size, kernel, hidden_size, pointwise=True)
    if kind == "rotary":
        return None
    raise ValueError(f"position_embedding must be one of {POSITION_EMBEDDINGS}, got {kind!r}")


__all__ = ["POSITION_EMBEDDINGS", "ConvPositionalEmbedding", "RotaryEmbedding", "apply_rotary"]
