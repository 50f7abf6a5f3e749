"""The demo's sentences: real English (Debian fortunes) restricted to a closed vocabulary.

A CPU-sized demo cannot learn open-vocabulary spelling in minutes. Keeping the sentences whose words all
lie among the most frequent words of the text makes test sentences new combinations of known words,
which is the setting where an n-gram LM over words helps most (the lecture's point), while the LM text
still excludes every test sentence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..data.sentences import load_sentences


def closed_vocabulary_sentences(
    vocabulary_size: int, max_words: int = 10, source: Sequence[str] | str | None = None
) -> list[str]:
    """Sentences (3..max_words words) all of whose words are among the `vocabulary_size` most frequent ones."""
    sentences = load_sentences(source, max_words=max_words)
    counts = Counter(word for sentence in sentences for word in sentence.split())
    vocabulary = {word for word, _ in counts.most_common(vocabulary_size)}
    kept = [s for s in sentences if all(word in vocabulary for word in s.split())]
    if not kept:
        raise ValueError(f"no sentence uses only the {vocabulary_size} most frequent words; raise vocabulary_size")
    return kept


def pick_sentences(candidates: Sequence[str], num_sentences: int, seed: int) -> list[str]:
    """`num_sentences` of the candidates, drawn with `seed`."""
    if num_sentences > len(candidates):
        raise ValueError(
            f"only {len(candidates)} sentences fit the closed vocabulary, {num_sentences} were asked for: "
            "raise the vocabulary size or lower the number of sentences"
        )
    order = np.random.default_rng(seed).permutation(len(candidates))[:num_sentences]
    return [candidates[i] for i in sorted(order)]


def lm_text(candidates: Sequence[str], excluded: Sequence[str]) -> list[str]:
    """LM training text: every candidate sentence except the excluded (test) ones."""
    held_out = set(excluded)
    return [s for s in candidates if s not in held_out]
