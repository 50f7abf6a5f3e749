"""Gumbel-softmax product quantizer of wav2vec 2.0 (G groups × V codevectors each)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .losses import codevector_perplexity


class GumbelVectorQuantizer(nn.Module):
    """Maps each frame to one codevector per group and concatenates them.

    Training draws hard Gumbel-softmax samples at `temperature` (straight-through gradients); evaluation
    takes the argmax. The temperature lives here and is annealed from outside (a Trainer callback)
    through `set_temperature`.
    """

    def __init__(self, input_dim: int, num_groups: int, num_codevectors_per_group: int, codevector_dim: int) -> None:
        super().__init__()
        if codevector_dim % num_groups != 0:
            raise ValueError(f"codevector_dim={codevector_dim} must be divisible by num_codevector_groups={num_groups}")
        self.num_groups = num_groups
        self.num_vars = num_codevectors_per_group
        # Uniform like the model's `_init_weights`, so a quantizer built on its own never holds uninitialised memory
        self.codevectors = nn.Parameter(
            torch.rand(1, num_groups * num_codevectors_per_group, codevector_dim // num_groups)
        )
        self.weight_proj = nn.Linear(input_dim, num_groups * num_codevectors_per_group)
        self.temperature = 2.0

    def set_temperature(self, temperature: float) -> None:
        self.temperature = float(temperature)

    def _select(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The hard choice of each group for each frame, in fp32 (call with autocast disabled).

        Args:
            features: (B, T, C).
        Returns:
            one-hot choices (B·T, G, V), the probabilities the perplexity is taken over (B·T, G, V),
            code indices (B, T, G) long in [0, V). Training: a Gumbel-softmax sample at `temperature`
            (straight-through gradients) and softmax probabilities; evaluation: the argmax, and the one-hot
            as probabilities.
        """
        batch, time, _ = features.shape
        logits = self.weight_proj(features.float()).view(batch * time, self.num_groups, self.num_vars)
        if self.training:
            one_hot = F.gumbel_softmax(logits, tau=self.temperature, hard=True, dim=-1)
            probs = logits.softmax(-1)
        else:
            one_hot = F.one_hot(logits.argmax(-1), self.num_vars).to(logits.dtype)
            probs = one_hot
        return one_hot, probs, one_hot.argmax(-1).view(batch, time, self.num_groups)

    def codes(self, features: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """The index of the codevector each group picks for each frame: the choice `forward` quantizes with.

        Args:
            features: (B, T, C).
            frame_mask: (B, T) bool valid frames, or None when all are.
        Returns:
            (B, T, G) long, in [0, V) on valid frames and -1 on the others. In training mode the choice is a
            fresh Gumbel-softmax sample, as in `forward`; in evaluation mode the argmax.
        """
        with torch.autocast(device_type=features.device.type, enabled=False):
            _, _, codes = self._select(features)
        if frame_mask is not None:
            codes = codes.masked_fill(~frame_mask.to(codes.device, torch.bool)[..., None], -1)
        return codes

    def forward(
        self, features: torch.Tensor, frame_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """features: (B, T, C); frame_mask: (B, T) bool frames counted in the perplexity.

        Returns:
            quantized (B, T, codevector_dim), perplexity (scalar), code ids (B, T) (one id per combination:
            sum over groups g of codes[..., g] * V**g, with `codes` as `self.codes` returns them).
        """
        batch, time, _ = features.shape
        with torch.autocast(device_type=features.device.type, enabled=False):
            one_hot, probs, codes = self._select(features)
            mask = frame_mask.reshape(-1) if frame_mask is not None else None
            perplexity = codevector_perplexity(probs, mask)
            # (BT, G, V) x (G, V, D/G) -> (BT, G, D/G) as a batched matmul over groups: broadcasting the
            # one-hot against the codebook would materialise a (BT, G, V, D/G) tensor (gigabytes at BASE size).
            codevectors = self.codevectors.float().view(self.num_groups, self.num_vars, -1)
            quantized = torch.bmm(one_hot.transpose(0, 1), codevectors).transpose(0, 1).reshape(batch, time, -1)
            radix = self.num_vars ** torch.arange(self.num_groups, device=codes.device)
            code_ids = (codes * radix).sum(-1)
        return quantized, perplexity, code_ids
