"""Logit builders for the decoding tests (log-probabilities with known content), and noise audio."""

from __future__ import annotations

import numpy as np


def spell(
    text: str,
    labels: list[str],
    frames_per_char: int = 2,
    blanks: int = 1,
    margin: float = 8.0,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """(T, V) log-probs spelling `text`: each char peaks for `frames_per_char` frames, then `blanks` blank frames.

    Repeated characters get a blank between them. `noise` adds Gaussian noise to every logit before log-softmax.
    """
    index = {label: i for i, label in enumerate(labels)}
    rng = np.random.default_rng(seed)
    rows = []
    for char in text:
        for _ in range(frames_per_char):
            rows.append(index[char])
        rows.extend([index[""]] * blanks)
    logits = rng.normal(0.0, noise, (len(rows), len(labels))) if noise else np.zeros((len(rows), len(labels)))
    logits[np.arange(len(rows)), rows] += margin
    return log_softmax(logits)


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    return (x - np.log(np.exp(x).sum(axis=-1, keepdims=True))).astype(np.float32)


def ambiguous(word_a: str, word_b: str, labels: list[str], lean: float = 0.4) -> np.ndarray:
    """Log-probs spelling `word_a`/`word_b` (same length) where they differ, leaning slightly to `word_b`.

    Greedy decoding reads `word_b`; an LM that knows `word_a` should pick `word_a`.
    """
    index = {label: i for i, label in enumerate(labels)}
    rows = []
    for a, b in zip(word_a, word_b):
        row = np.full(len(labels), -4.0)
        row[index[a]] = 4.0
        if a != b:
            row[index[b]] = 4.0 + lean
        rows += [row, row.copy()]
        blank = np.full(len(labels), -4.0)
        blank[index[""]] = 6.0
        rows.append(blank)
    return log_softmax(np.array(rows))


def greedy(log_probs: np.ndarray, labels: list[str]) -> str:
    """Argmax path, repeats collapsed, blanks dropped, whitespace normalised."""
    best = log_probs.argmax(axis=-1)
    keep = np.ones(len(best), dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    return " ".join("".join(labels[i] for i in best[keep]).split())


def peaky_random(num_frames: int, labels: list[str], seed: int, scale: float = 4.0) -> np.ndarray:
    """Random log-probs with a clear but not certain winner per frame (many candidates, frequent blanks)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, scale, (num_frames, len(labels)))
    logits[:, 0] += scale  # blank (id 0) wins often, as in trained CTC models
    return log_softmax(logits)


SAMPLING_RATE = 16_000


def audio(seconds: float, seed: int = 0) -> np.ndarray:
    """(seconds * 16 kHz,) float32 Gaussian noise, seeded."""
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * SAMPLING_RATE))).astype(np.float32)
