"""Transformer encoder with a convolutional relative positional embedding (pre-LayerNorm, SDPA or eager), and
optionally the Conformer's convolution module in every layer."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers.modeling_layers import GradientCheckpointingLayer

from .conv_module import ConvolutionModule
from .positional import RotaryEmbedding, apply_rotary, build_positional_embedding


class SelfAttention(nn.Module):
    def __init__(self, hidden_size: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        if hidden_size % num_heads != 0:
            raise ValueError(f"hidden_size={hidden_size} must be divisible by num_attention_heads={num_heads}")
        self.num_heads, self.head_dim, self.dropout = num_heads, hidden_size // num_heads, dropout
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.out_proj = nn.Linear(hidden_size, hidden_size)

    def forward(
        self,
        x: torch.Tensor,
        key_mask: torch.Tensor | None,
        implementation: str,
        output_attentions: bool,
        rotary: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (B, T, C); key_mask: (B, T) bool valid keys or None; rotary: cos, sin (T, d/2) or None
        -> (B, T, C), weights (B, H, T, T) or None."""
        batch, time, channels = x.shape
        q, k, v = self.qkv(x).view(batch, time, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)  # (B,H,T,d)
        if rotary is not None:
            q, k = apply_rotary(q, rotary), apply_rotary(k, rotary)
        mask = key_mask[:, None, None, :] if key_mask is not None else None  # (B, 1, 1, T)
        dropout = self.dropout if self.training else 0.0
        weights = None
        if implementation == "eager" or output_attentions:
            scores = (q @ k.transpose(-2, -1)) * self.head_dim**-0.5  # (B, H, T, T)
            if mask is not None:
                scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
            weights = scores.softmax(-1)
            out = F.dropout(weights, dropout, self.training) @ v
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        out = out.transpose(1, 2).reshape(batch, time, channels)
        return self.out_proj(out), weights


class FeedForward(nn.Module):
    def __init__(self, hidden_size: int, intermediate_size: int, dropout: float) -> None:
        super().__init__()
        self.fc1 = nn.Linear(hidden_size, intermediate_size)
        self.fc2 = nn.Linear(intermediate_size, hidden_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.dropout(F.gelu(self.fc1(x))))


class EncoderLayer(GradientCheckpointingLayer):
    """Pre-LN block: x + Attn(LN(x)), [x + Conv(x) when conv_kernel > 0], then x + FFN(LN(x)); checkpointed when
    activation checkpointing is on."""

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        intermediate_size: int,
        attention_dropout: float,
        activation_dropout: float,
        hidden_dropout: float,
        layer_norm_eps: float,
        conv_kernel: int = 0,
    ) -> None:
        super().__init__()
        self.conv_module = ConvolutionModule(hidden_size, conv_kernel, layer_norm_eps) if conv_kernel else None
        self.attention_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.attention = SelfAttention(hidden_size, num_heads, attention_dropout)
        self.feed_forward_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.feed_forward = FeedForward(hidden_size, intermediate_size, activation_dropout)
        self.dropout = nn.Dropout(hidden_dropout)

    def forward(
        self,
        x: torch.Tensor,
        key_mask: torch.Tensor | None,
        implementation: str,
        output_attentions: bool = False,
        rotary: tuple[torch.Tensor, torch.Tensor] | None = None,
        frame_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (B, T, C); key_mask: (B, T) bool keys attention may read, or None (all); frame_mask: (B, T) bool valid
        frames or None, zeroing padding for the convolution module."""
        normed = self.attention_norm(x)
        attended, weights = self.attention(normed, key_mask, implementation, output_attentions, rotary)
        x = x + self.dropout(attended)
        if self.conv_module is not None:
            x = x + self.dropout(self.conv_module(x, frame_mask))
        x = x + self.dropout(self.feed_forward(self.feed_forward_norm(x)))
        return x, weights


class TransformerEncoder(nn.Module):
    """Positional conv (or rotary attention) -> dropout -> pre-LN layers (with layerdrop) -> final LayerNorm."""

    def __init__(
        self,
        hidden_size: int,
        num_layers: int,
        num_heads: int,
        intermediate_size: int,
        pos_kernel: int,
        pos_groups: int,
        position_embedding: str,
        hidden_dropout: float,
        attention_dropout: float,
        activation_dropout: float,
        layerdrop: float,
        layer_norm_eps: float,
        conv_module_kernel: int = 0,
    ) -> None:
        super().__init__()
        self.pos_conv_embed = build_positional_embedding(position_embedding, hidden_size, pos_kernel, pos_groups)
        self.rotary = RotaryEmbedding(hidden_size // num_heads) if position_embedding == "rotary" else None
        self.dropout = nn.Dropout(hidden_dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(
                hidden_size,
                num_heads,
                intermediate_size,
                attention_dropout,
                activation_dropout,
                hidden_dropout,
                layer_norm_eps,
                conv_module_kernel,
            )
            for _ in range(num_layers)
        )
        self.layer_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.layerdrop = layerdrop

    def forward(
        self,
        x: torch.Tensor,
        frame_mask: torch.Tensor | None,
        implementation: str = "sdpa",
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None, tuple[torch.Tensor, ...] | None]:
        """x: (B, T, C); frame_mask: (B, T) bool valid frames or None.

        Returns last hidden state (B, T, C) and, when asked, per-layer hidden states and attentions.
        """
        if frame_mask is not None:
            x = x * frame_mask[..., None].to(x.dtype)  # the positional conv must see zeros in padding
            # Every key valid: leave the mask out so SDPA can take its fastest (flash) kernel. Compiled graphs keep
            # the mask (the test reads tensor data, which would break the graph).
            key_mask = frame_mask if torch.compiler.is_compiling() or not bool(frame_mask.all()) else None
        else:
            key_mask = None
        if self.pos_conv_embed is not None:
            x = x + self.pos_conv_embed(x)
        x = self.dropout(x)
        rotary = self.rotary(x.shape[1], x.dtype, x.device) if self.rotary is not None else None
        hidden_states: list[torch.Tensor] = []
        attentions: list[torch.Tensor] = []
        for layer in self.layers:
            if output_hidden_states:
                hidden_states.append(x)
            if self.training and self.layerdrop > 0 and torch.rand(()) < self.layerdrop:
                continue
            x, weights = layer(x, key_mask, implementation, output_attentions, rotary, frame_mask)
            if output_attentions:
                attentions.append(weights)
        x = self.layer_norm(x)
        if output_hidden_states:
            hidden_states.append(x)
        return (
            x,
            (tuple(hidden_states) if output_hidden_states else None),
            (tuple(attentions) if output_attentions else None),
        )
