"""Seeded on-the-fly augmentation for training: waveform steps (torchaudio: speed, band-limiting, reverberation,
noise, gain) before the log-mel features, feature steps (time stretch, mel warp: `feature_augmentation`) after.

Applied by the training collators, never at evaluation (the collators' `eval_copy` has none). Settings whose
waveform steps are all off leave the audio alone, so training reads prepared features. Every random draw comes
from the `torch.Generator` passed in, so a seed fixes the augmented batches and checkpoints can carry the
generator's state.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import torch
import torchaudio


@dataclass(frozen=True)
class AugmentationSettings:
    """What each training utterance may go through, in this order (each step drawn independently):

    speed_factors: speed perturbation (tempo and pitch, as Kaldi's 3-way perturbation), one factor drawn uniformly.
    band_limit_prob, band_limit_rates: resample down to one of these rates and back (telephone-like bandwidth).
    reverb_prob, rt60_seconds: convolve with a synthetic room response (decaying noise) of this reverberation time.
    noise_prob, snr_db: add white noise at a uniform SNR (dB, relative to the utterance's mean power).
    gain_db: uniform gain.
    time_stretch, mel_warp: on the log-mel frames, a uniform time-stretch factor per batch (> 1: fewer frames) and
        a uniform VTLP factor per utterance on the mel axis; (1.0, 1.0) is off.
    `waveform_only_off()` is the starting point for feature steps alone.
    """

    speed_factors: tuple[float, ...] = (0.9, 0.95, 1.0, 1.05, 1.1)
    band_limit_prob: float = 0.2
    band_limit_rates: tuple[int, ...] = (8000, 12000)
    reverb_prob: float = 0.2
    rt60_seconds: tuple[float, float] = (0.1, 0.4)
    noise_prob: float = 0.5
    snr_db: tuple[float, float] = (10.0, 40.0)
    gain_db: tuple[float, float] = (-6.0, 6.0)
    time_stretch: tuple[float, float] = (1.0, 1.0)
    mel_warp: tuple[float, float] = (1.0, 1.0)

    @classmethod
    def waveform_only_off(cls, **changes: Any) -> AugmentationSettings:
        """Every waveform step off (features can then be prepared once), with `changes` applied."""
        off = dict(speed_factors=(1.0,), band_limit_prob=0.0, reverb_prob=0.0, noise_prob=0.0, gain_db=(0.0, 0.0))
        return cls(**{**off, **changes})

    @property
    def changes_waveform(self) -> bool:
        """Whether any waveform step can change the audio (then features are computed per batch)."""
        return (
            any(factor != 1.0 for factor in self.speed_factors)
            or self.band_limit_prob > 0
            or self.reverb_prob > 0
            or self.noise_prob > 0
            or tuple(self.gain_db) != (0.0, 0.0)
        )

    @property
    def changes_features(self) -> bool:
        return tuple(self.time_stretch) != (1.0, 1.0) or tuple(self.mel_warp) != (1.0, 1.0)

    def __post_init__(self) -> None:
        for name in ("band_limit_prob", "reverb_prob", "noise_prob"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"augmentation {name} must lie in [0, 1], got {value}")
        if not self.speed_factors or any(not f > 0 for f in self.speed_factors):
            raise ValueError(f"speed_factors must be positive numbers, got {self.speed_factors}")
        for name in ("rt60_seconds", "snr_db", "gain_db", "time_stretch", "mel_warp"):
            value = getattr(self, name)
            if len(value) != 2 or not value[0] <= value[1]:
                raise ValueError(f"augmentation {name} must be (low, high) with low <= high, got {value}")
        for name in ("time_stretch", "mel_warp"):
            if not getattr(self, name)[0] > 0:
                raise ValueError(f"augmentation {name} factors must be positive, got {getattr(self, name)}")

    def to_json(self) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}


class WaveformAugmenter:
    """Applies `AugmentationSettings` to one mono waveform at `sampling_rate`."""

    def __init__(self, settings: AugmentationSettings | None = None, sampling_rate: int = 16000) -> None:
        self.settings = settings or AugmentationSettings()
        self.sampling_rate = sampling_rate
        # Resampling kernels built once: small integer ratios make each resampling cost well under a millisecond
        # per second of audio, where torchaudio.functional.speed rebuilds a large kernel on every call.
        self._speed = {f: _resampler(Fraction(f).limit_denominator(100), 1) for f in self.settings.speed_factors}
        self._band_limit = {
            r: (_resampler(Fraction(sampling_rate), r), _resampler(Fraction(r), sampling_rate))
            for r in self.settings.band_limit_rates
        }

    def __call__(self, waveform: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(N,) float32 -> (N',) float32 augmented; N' differs from N by the speed factor."""
        settings = self.settings

        def uniform(low: float, high: float) -> float:
            return low + (high - low) * float(torch.rand((), generator=generator))

        def chance(probability: float) -> bool:
            return probability > 0 and float(torch.rand((), generator=generator)) < probability

        x = waveform.float()[None]  # (1, N)
        factor = settings.speed_factors[int(torch.randint(len(settings.speed_factors), (), generator=generator))]
        if factor != 1.0:
            x = self._speed[factor](x)
        if chance(settings.band_limit_prob):
            down, up = self._band_limit[
                settings.band_limit_rates[int(torch.randint(len(settings.band_limit_rates), (), generator=generator))]
            ]
            x = up(down(x))[..., : x.shape[-1]]
        if chance(settings.reverb_prob):
            x = self._reverberate(x, uniform(*settings.rt60_seconds), generator)
        if chance(settings.noise_prob):
            noise = torch.randn(x.shape, generator=generator)
            snr = torch.tensor([uniform(*settings.snr_db)])
            x = torchaudio.functional.add_noise(x, noise, snr)
        x = x * 10.0 ** (uniform(*settings.gain_db) / 20.0)
        return x[0]

    def _reverberate(self, x: torch.Tensor, rt60: float, generator: torch.Generator) -> torch.Tensor:
        """Convolve (1, N) with a synthetic room impulse response: a direct path, then noise decaying by 60 dB in
        `rt60` seconds; the result keeps the input's length and peak level."""
        length = max(2, int(rt60 * self.sampling_rate))
        t = torch.arange(length) / self.sampling_rate
        response = torch.randn(length, generator=generator) * torch.exp(-6.9078 * t / rt60)  # 60 dB = e^-6.9078
        response[0] = 1.0
        response = response / response.norm()
        wet = torchaudio.functional.fftconvolve(x, response[None])[..., : x.shape[-1]]
        return wet * (x.abs().max() / wet.abs().max().clamp(min=1e-8))


def needs_raw_audio(augmentation: AugmentationSettings | None) -> bool:
    """Whether training batches must be featurized from the audio (waveform steps on), not from prepared features."""
    return augmentation is not None and augmentation.changes_waveform


def _resampler(source: Fraction, target: int) -> torchaudio.transforms.Resample:
    """Resampling by target / source, with both reduced to small integers."""
    ratio = Fraction(target) / source
    return torchaudio.transforms.Resample(orig_freq=ratio.denominator, new_freq=ratio.numerator)


__all__ = ["AugmentationSettings", "WaveformAugmenter", "needs_raw_audio"]
