"""The Conformer's convolution module (Gulati et al., 2020), an option of each Transformer layer.

Attention relates distant frames; this module models the local acoustic context (a few hundred ms) that most
CTC decisions rest on: pointwise conv to 2C channels, GLU, depthwise conv over time, LayerNorm, SiLU, pointwise
conv back to C. LayerNorm replaces the paper's BatchNorm, whose batch statistics would count padded frames and
differ between training and inference. torchaudio's `Conformer` builds its own layers (its own attention and
feed-forward), so the module alone is written here.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvolutionModule(nn.Module):
    """(B, T, C) -> (B, T, C), the residual branch; padded frames are zeroed before the depthwise conv, so they
    never leak into valid ones."""

    def __init__(self, hidden_size: int, kernel: int, layer_norm_eps: float) -> None:
        super().__init__()  # an odd kernel (a centred window): LogMelWav2Vec2Config checks conv_module_kernel
        self.norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.pointwise_in = nn.Linear(hidden_size, 2 * hidden_size)
        self.depthwise = nn.Conv1d(hidden_size, hidden_size, kernel, padding=kernel // 2, groups=hidden_size)
        self.depthwise_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.pointwise_out = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: torch.Tensor, frame_mask: torch.Tensor | None) -> torch.Tensor:
        """x: (B, T, C); frame_mask: (B, T) bool valid frames or None -> (B, T, C)."""
        y = nn.functional.glu(self.pointwise_in(self.norm(x)), dim=-1)  # (B, T, C)
        if frame_mask is not None:
            y = y * frame_mask[..., None].to(y.dtype)
        y = self.depthwise(y.transpose(1, 2)).transpose(1, 2)  # (B, T, C)
        return self.pointwise_out(nn.functional.silu(self.depthwise_norm(y)))


__all__ = ["ConvolutionModule"]
