"""Small builders shared by the modeling tests."""

from __future__ import annotations

import numpy as np

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Config


def tiny_config(**overrides) -> LogMelWav2Vec2Config:
    settings = dict(hidden_dropout=0.0, attention_dropout=0.0, final_dropout=0.0, vocab_size=12)
    return LogMelWav2Vec2Config.tiny(**{**settings, **overrides})


def random_waveforms(lengths: list[int], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in lengths]


def extract(waveforms: list[np.ndarray]):
    return LogMelFeatureExtractor()(waveforms, sampling_rate=16000, return_tensors="pt")


def features(lengths: list[int], seed: int = 0):
    return extract(random_waveforms(lengths, seed))
