"""Tiny deterministic speech-like corpora for the training tests: one tone per character, nothing from the network."""

from __future__ import annotations

import datasets
import numpy as np

SAMPLING_RATE = 16000
SENTENCES = (
    "a cab",
    "bad ace",
    "dab a bed",
    "face bead",
    "cede fee",
    "bee dace",
    "add cafe",
    "fad bade",
)


def tone_waveform(text: str, rng: np.random.Generator, char_seconds: float = 0.08) -> np.ndarray:
    """Each letter a sine tone (its own frequency), 20 ms gaps between letters, 100 ms silence per space."""
    pieces = [np.zeros(int(0.05 * SAMPLING_RATE), np.float32)]
    for char in text:
        if char == " ":
            pieces.append(np.zeros(int(0.1 * SAMPLING_RATE), np.float32))
            continue
        frequency = 300.0 + 170.0 * (ord(char) - ord("a"))
        t = np.arange(int(char_seconds * SAMPLING_RATE)) / SAMPLING_RATE
        pieces.append((0.3 * np.sin(2 * np.pi * frequency * t + rng.uniform(0, 6.28))).astype(np.float32))
        pieces.append(np.zeros(int(0.02 * SAMPLING_RATE), np.float32))
    pieces.append(np.zeros(int(0.05 * SAMPLING_RATE), np.float32))
    audio = np.concatenate(pieces)
    return (audio + 0.003 * rng.standard_normal(len(audio))).astype(np.float32)


def tone_corpus(sentences=SENTENCES, copies: int = 2, seed: int = 0) -> datasets.Dataset:
    """Dataset with columns audio ({"array", "sampling_rate"}) and text, `copies` renditions per sentence."""
    rng = np.random.default_rng(seed)
    rows = {"audio": [], "text": []}
    for _ in range(copies):
        for text in sentences:
            rows["audio"].append({"array": tone_waveform(text, rng), "sampling_rate": SAMPLING_RATE})
            rows["text"].append(text)
    return datasets.Dataset.from_dict(rows)
