"""Waveform augmentation: each effect does what it says, every draw is seeded, bad settings are named."""

import numpy as np
import pytest
import torch

from hf_asr.data.augmentation import AugmentationSettings, WaveformAugmenter

RATE = 16000
ONLY = dict(band_limit_prob=0.0, reverb_prob=0.0, noise_prob=0.0, speed_factors=(1.0,), gain_db=(0.0, 0.0))


def _speech_like(seconds: float = 1.0, seed: int = 0) -> torch.Tensor:
    """A chirp plus a 6 kHz tone: energy across the band, above 4 kHz too."""
    t = torch.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    return 0.3 * torch.sin(2 * np.pi * (200 + 1500 * t) * t) + 0.1 * torch.sin(2 * np.pi * 6000 * t + rng.uniform())


def _augment(settings: dict, wave: torch.Tensor, seed: int = 0) -> torch.Tensor:
    augmenter = WaveformAugmenter(AugmentationSettings(**{**ONLY, **settings}), RATE)
    return augmenter(wave, torch.Generator().manual_seed(seed))


def _energy_above(wave: torch.Tensor, hz: float) -> float:
    spectrum = torch.fft.rfft(wave).abs() ** 2
    freqs = torch.fft.rfftfreq(len(wave), 1 / RATE)
    return float(spectrum[freqs > hz].sum() / spectrum.sum())


def test_each_effect():
    wave = _speech_like()
    assert torch.equal(_augment({}, wave), wave)  # every effect off: the input itself
    faster = _augment({"speed_factors": (1.1,)}, wave)
    assert abs(len(faster) - len(wave) / 1.1) <= 2
    assert abs(len(_augment({"speed_factors": (0.9,)}, wave)) - len(wave) / 0.9) <= 2
    narrow = _augment({"band_limit_prob": 1.0, "band_limit_rates": (8000,)}, wave)
    assert len(narrow) == len(wave) and _energy_above(wave, 4200) > 0.05 and _energy_above(narrow, 4200) < 1e-3
    noisy = _augment({"noise_prob": 1.0, "snr_db": (10.0, 10.0)}, wave)
    snr = 10 * torch.log10(wave.pow(2).mean() / (noisy - wave).pow(2).mean())
    assert abs(float(snr) - 10.0) < 0.5
    louder = _augment({"gain_db": (6.0, 6.0)}, wave)
    assert torch.allclose(louder, wave * 10 ** (6 / 20))
    wet = _augment({"reverb_prob": 1.0, "rt60_seconds": (0.3, 0.3)}, wave)
    assert len(wet) == len(wave) and torch.isclose(wet.abs().max(), wave.abs().max())
    assert not torch.allclose(wet, wave, atol=1e-2)


def test_draws_follow_the_seed():
    wave = _speech_like()
    settings = AugmentationSettings()
    first = [WaveformAugmenter(settings)(wave, torch.Generator().manual_seed(s)) for s in range(6)]
    again = [WaveformAugmenter(settings)(wave, torch.Generator().manual_seed(s)) for s in range(6)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert len({(len(a), round(float(a.abs().sum()), 3)) for a in first}) == 6  # every seed draws differently


@pytest.mark.parametrize(
    "bad,match",
    [
        ({"noise_prob": 1.5}, "noise_prob"),
        ({"speed_factors": (0.0,)}, "speed_factors"),
        ({"snr_db": (30, 10)}, "snr_db"),
        ({"speed_factors": ()}, "speed_factors"),
    ],
)
def test_bad_settings_are_named(bad, match):
    with pytest.raises(ValueError, match=match):
        AugmentationSettings(**bad)
