"""Transcript checks shared by the processor and the data preparation: type, and characters outside the vocabulary.

The CTC tokenizer silently maps any character outside its vocabulary to `<unk>` (uppercase, accents, NFD forms,
curly apostrophes...), and a `None` transcript (an empty CSV/TSV cell) fails deep inside it. These helpers make both
visible, naming the sample, the column and each offending character.
"""

from __future__ import annotations

import collections
import unicodedata
import warnings
from collections.abc import Iterable
from typing import Any

UNKNOWN_CHARACTER_POLICIES = ("warn", "raise", "ignore")


class TranscriptTypeError(TypeError):
    """A transcript is not a string (None from an empty cell, a number, a list...); the message names the sample."""


class UnknownCharactersError(ValueError):
    """Some transcripts hold characters that are not in the alphabet (the tokenizer would turn them into `<unk>`)."""


class UnknownCharactersWarning(UserWarning):
    """Some transcripts hold characters that the tokenizer turns into `<unk>`."""


def require_transcript(text: Any, index: int | None = None, column: str | None = None) -> str:
    """Return `text` if it is a string; else raise `TranscriptTypeError` naming sample `index` and `column`.

    Example message: "transcript of sample 17 in column 'text' is None (an empty cell?) ...".
    """
    if isinstance(text, str):
        return text
    where = (
        "transcript"
        + (f" of sample {index}" if index is not None else "")
        + (f" in column {column!r}" if column is not None else "")
    )
    what = "None (an empty cell?)" if text is None else f"{text!r:.60} of type {type(text).__name__}, not a string"
    fix = f"corpus.filter(lambda t: isinstance(t, str), input_columns={column or 'text'!r})"
    raise TranscriptTypeError(f"{where} is {what}: every transcript must be a string; drop such rows ({fix})")


def find_unknown_characters(texts: Iterable[str], alphabet: Iterable[str]) -> collections.Counter[str]:
    """Count the characters of `texts` that are not in `alphabet` (the space is always allowed).

    Returns a Counter {character: occurrences}; empty when every character is known.
    """
    return _scan(texts, alphabet)[0]


def check_transcripts(texts: Iterable[str], alphabet: Iterable[str]) -> None:
    """Raise `UnknownCharactersError` if any text holds a character outside `alphabet` (space is always allowed).

    The message lists each unknown character with its repr, Unicode name, count and the index of the first text
    where it appears, most frequent first, so that a bad normalisation or a missing letter is easy to find.
    """
    report_unknown_characters(texts, alphabet, "raise")


def report_unknown_characters(
    texts: Iterable[str], alphabet: Iterable[str], policy: str = "warn", where: str = "", start: int = 0
) -> collections.Counter[str]:
    """Warn (`policy="warn"`, an `UnknownCharactersWarning`), raise (`"raise"`, `UnknownCharactersError`) or stay
    quiet (`"ignore"`) when `texts` hold characters outside `alphabet`; returns their counts either way.

    `where` (e.g. "column 'text'") is added to the message; `start` is the sample number of the first text.
    """
    if policy not in UNKNOWN_CHARACTER_POLICIES:
        raise ValueError(f"unknown_characters={policy!r}: expected one of {UNKNOWN_CHARACTER_POLICIES}")
    counts, first_index = _scan(texts, alphabet, start)
    if not counts or policy == "ignore":
        return counts
    lines = [
        f"  {char!r} ({unicodedata.name(char, f'U+{ord(char):04X}')}): {count} time(s), "
        f"first in sample {first_index[char]}"
        for char, count in counts.most_common()
    ]
    message = (
        f"{len(counts)} character(s){f' in {where}' if where else ''} are not in the alphabet and would become <unk>:\n"
        + "\n".join(lines)
        + "\nNormalise the transcripts (hf_asr.data.text.normalize_transcript) or rebuild the vocabulary."
    )
    if policy == "raise":
        raise UnknownCharactersError(message)
    warnings.warn(message, UnknownCharactersWarning, stacklevel=4)  # the caller of prepare_dataset or the processor
    return counts


def tokenizer_alphabet(tokenizer: Any) -> list[str] | None:
    """The single characters a CTC character tokenizer knows (not its word delimiter, which stands for the space);
    None for a tokenizer that is not character-level (no `word_delimiter_token`), where the check does not apply."""
    delimiter = getattr(tokenizer, "word_delimiter_token", None)
    if delimiter is None:
        return None
    return [token for token in tokenizer.get_vocab() if len(token) == 1 and token != delimiter]


def _scan(
    texts: Iterable[str], alphabet: Iterable[str], start: int = 0
) -> tuple[collections.Counter[str], dict[str, int]]:
    known = set(alphabet) | {" "}
    counts: collections.Counter[str] = collections.Counter()
    first_index: dict[str, int] = {}
    for index, text in enumerate(texts, start):
        for char in require_transcript(text, index):
            if char not in known:
                counts[char] += 1
                first_index.setdefault(char, index)
    return counts, first_index


__all__ = [
    "TranscriptTypeError",
    "UnknownCharactersError",
    "UnknownCharactersWarning",
    "require_transcript",
    "find_unknown_characters",
    "check_transcripts",
    "report_unknown_characters",
    "tokenizer_alphabet",
]
