"""Seeded augmentation of log-mel frames: time stretch and mel-axis warping (VTLP).

Both act on the features, not the audio, so prepared (cached) features stay usable and a batch costs a few
interpolations: the cheap route to "new speakers" when synthesis and per-batch feature extraction are the budget.
Time stretch resamples the frames (tempo without pitch, as a speed perturbation of the features); the mel warp is
vocal tract length perturbation (Jaitly & Hinton, 2013) on the mel-bin axis: formants move by the factor, the top
bins fold back so the axis keeps its range. torchaudio offers neither on log-mel frames (its TimeStretch is a phase
vocoder on complex spectra), hence the few lines here.
"""

from __future__ import annotations

import torch

# Bins below this fraction of the axis move by the warp factor; above it the map bends back to the top bin.
_WARP_BOUNDARY = 0.8


def stretch_time(features: torch.Tensor, factor: float) -> torch.Tensor:
    """(T, n_mels) -> (round(T / factor), n_mels): `factor` > 1 is faster speech (fewer frames)."""
    length = features.shape[0]
    target = max(1, round(length / factor))
    if target == length or length < 2:
        return features
    resampled = torch.nn.functional.interpolate(
        features.T[None], size=target, mode="linear", align_corners=True
    )  # (1, n_mels, target)
    return resampled[0].T.contiguous()


def warp_mel_axis(features: torch.Tensor, factor: float) -> torch.Tensor:
    """(T, n_mels) -> (T, n_mels), what bin k * `factor` holds is read from bin k (below the boundary).

    The forward map is VTLP's piecewise-linear one on bin indices 0..S: k -> k * factor up to
    b = boundary * S * min(factor, 1) / factor, then a straight line to S -> S. Each output bin reads its source
    position through the inverse map, by linear interpolation between neighbouring bins.
    """
    bins = features.shape[1]
    top = bins - 1
    if factor == 1.0 or top < 1:
        return features
    knee = _WARP_BOUNDARY * top * min(factor, 1.0) / factor  # source position where the map bends
    target = torch.arange(bins, dtype=torch.float32, device=features.device)
    below = target / factor
    above = top - (top - target) * (top - knee) / (top - knee * factor)
    source = torch.where(target <= knee * factor, below, above).clamp(0, top)
    low = source.floor().long().clamp(max=top - 1)
    weight = (source - low).to(features.dtype)
    return features[:, low] * (1 - weight) + features[:, low + 1] * weight


def augment_batch_features(
    rows: list[torch.Tensor],
    time_stretch: tuple[float, float],
    mel_warp: tuple[float, float],
    generator: torch.Generator,
) -> list[torch.Tensor]:
    """(T_i, n_mels) rows -> (T_i', n_mels): one time-stretch factor for the batch, a mel-warp factor per row, each
    uniform in its (low, high).

    One stretch per batch keeps rows that were batched by length equally long: with a factor per row the most
    slowed-down row sets the padding of all (at [0.8, 1.2], up to ~25% padded frames)."""

    def uniform(low: float, high: float) -> float:
        return low + (high - low) * float(torch.rand((), generator=generator))

    stretch = uniform(*time_stretch)
    return [warp_mel_axis(stretch_time(row, stretch), uniform(*mel_warp)) for row in rows]


__all__ = ["augment_batch_features", "stretch_time", "warp_mel_axis"]
