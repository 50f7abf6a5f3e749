"""Convolutional feature encoder over log-mel frames, and its one output-length formula."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def conv_output_lengths(lengths: torch.Tensor, kernels: Sequence[int], strides: Sequence[int]) -> torch.Tensor:
    """Frames left after the conv stack, for input lengths in mel frames.

    Each layer pads (kernel - 1) // 2 frames on both sides, so a layer gives
    floor((L + 2 * ((k - 1) // 2) - k) / s) + 1 frames (= ceil(L / s) for odd k), and 0 for L = 0.
    The one copy of the formula: the model's `encoder_lengths` and each conv layer use it.

    Args:
        lengths: (B,) integer frame counts.
    Returns:
        (B,) integer frame counts after the stack.
    """
    lengths = torch.as_tensor(lengths)
    for kernel, stride in zip(kernels, strides):
        padded = lengths + 2 * ((kernel - 1) // 2)
        lengths = torch.where(
            (lengths > 0) & (padded >= kernel),
            torch.div(padded - kernel, stride, rounding_mode="floor") + 1,
            torch.zeros_like(lengths),
        )
    return lengths


def frame_mask_from_lengths(lengths: torch.Tensor, max_length: int) -> torch.Tensor:
    """(B,) lengths -> (B, max_length) bool mask, True on valid frames."""
    positions = torch.arange(max_length, device=lengths.device)
    return positions[None, :] < lengths[:, None]


class ConvLayer(nn.Module):
    """Conv1d over time -> LayerNorm over channels -> GELU, zeroing padded frames afterwards.

    Zeroing the padding makes the next layer see exactly what it would see for the utterance alone
    (its own zero padding), so padded batches equal one-by-one runs on valid frames.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, bias: bool) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.conv = nn.Conv1d(in_channels, out_channels, kernel, stride, padding=(kernel - 1) // 2, bias=bias)
        self.norm = nn.LayerNorm(out_channels)
        self.activation = nn.GELU()

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, C_in, T_in), lengths: (B,) valid input frames -> (B, C_out, T_out), (B,) valid output frames."""
        x = self.conv(x)
        x = self.activation(self.norm(x.transpose(1, 2)).transpose(1, 2))
        lengths = conv_output_lengths(lengths, [self.kernel], [self.stride])
        return x * frame_mask_from_lengths(lengths, x.shape[-1])[:, None, :].to(x.dtype), lengths


class ConvFeatureEncoder(nn.Module):
    """Stack of 1-D convolutions turning (B, T_mel, n_mels) log-mel frames into (B, T, C) features."""

    def __init__(
        self, num_mel_bins: int, channels: Sequence[int], kernels: Sequence[int], strides: Sequence[int], bias: bool
    ) -> None:
        super().__init__()
        if not (len(channels) == len(kernels) == len(strides)):
            raise ValueError(
                f"conv_dim, conv_kernel and conv_stride need one entry per layer; got {len(channels)}, "
                f"{len(kernels)} and {len(strides)}"
            )
        in_sizes = [num_mel_bins, *channels[:-1]]
        self.layers = nn.ModuleList(
            ConvLayer(i, o, k, s, bias) for i, o, k, s in zip(in_sizes, channels, kernels, strides)
        )

    def freeze(self) -> None:
        for parameter in self.parameters():
            parameter.requires_grad = False

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """features: (B, T_mel, n_mels), lengths: (B,) valid mel frames -> (B, T, C), (B,) valid frames."""
        x = features.transpose(1, 2)  # (B, n_mels, T_mel)
        # Padding must read as zeros, whatever value the extractor padded with.
        x = x * frame_mask_from_lengths(lengths, x.shape[-1])[:, None, :].to(x.dtype)
        for layer in self.layers:
            x, lengths = layer(x, lengths)
        return x.transpose(1, 2), lengths  # (B, T, C)


class FeatureProjection(nn.Module):
    """LayerNorm over conv channels, then a linear map to the Transformer width."""

    def __init__(self, in_channels: int, hidden_size: int, dropout: float, eps: float) -> None:
        super().__init__()
        self.layer_norm = nn.LayerNorm(in_channels, eps=eps)
        self.projection = nn.Linear(in_channels, hidden_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """features: (B, T, C) -> projected (B, T, hidden), normalised features (B, T, C) for the quantizer."""
        normed = self.layer_norm(features)
        return self.dropout(self.projection(normed)), normed
