"""Transcript normalisation and unknown-character checks.

The CTC tokenizer silently maps any character outside its vocabulary to `<unk>` (uppercase, accents, NFD forms,
curly apostrophes...). These helpers make that visible: normalise first, then check against the alphabet and fail
with a message that names each offending character.
"""

from __future__ import annotations

import collections
import re
import unicodedata
from collections.abc import Iterable

# Typographic apostrophes and quote-like marks that stand for an apostrophe inside words ("don’t").
_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc\u2032\u0060\u00b4\uff07"})
_SPACES = re.compile(r"\s+")
_ASCII_NON_LETTERS = re.compile(r"[^a-z']+")


def normalize_transcript(text: str) -> str:
    """Return `text` in the form the vocabulary expects.

    Steps, in order: Unicode NFKC (so NFD forms such as "e" + combining acute compose into one "é", and ligatures
    like "ﬁ" split into "fi"), casefold (lowercase, also "ß" -> "ss"), typographic apostrophes -> `'`, every character
    that is neither a letter, a combining mark nor `'` -> space, runs of spaces collapsed, ends stripped.
    Accents are kept ("café" stays "café"): whether they belong in the alphabet is for `check_transcripts` to say.

    Example: ``normalize_transcript("Don’t  STOP—now!") == "don't stop now"``.
    """
    if text.isascii():  # fast path: NFKC and casefold are identities beyond lower() here
        return _ASCII_NON_LETTERS.sub(" ", text.lower()).strip()
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    # Casefold can emit combining marks again (e.g. "İ" -> "i̇"): compose once more so they stay one character.
    text = unicodedata.normalize("NFC", text)
    # Combining marks that could not compose stay with their letter rather than splitting the word.
    kept = [c if (c.isalpha() or c == "'" or unicodedata.category(c).startswith("M")) else " " for c in text]
    return _SPACES.sub(" ", "".join(kept)).strip()


class UnknownCharactersError(ValueError):
    """Some transcripts hold characters that are not in the alphabet (the tokenizer would turn them into `<unk>`)."""


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
    counts, first_index = _scan(texts, alphabet)
    if not counts:
        return
    lines = [
        f"  {char!r} ({unicodedata.name(char, f'U+{ord(char):04X}')}): {count} time(s), "
        f"first in sample {first_index[char]}"
        for char, count in counts.most_common()
    ]
    raise UnknownCharactersError(
        f"{len(counts)} character(s) are not in the alphabet and would become <unk>:\n"
        + "\n".join(lines)
        + "\nNormalise the transcripts (hf_asr.data.text.normalize_transcript) or rebuild the vocabulary."
    )


def _scan(texts: Iterable[str], alphabet: Iterable[str]) -> tuple[collections.Counter[str], dict[str, int]]:
    known = set(alphabet) | {" "}
    counts: collections.Counter[str] = collections.Counter()
    first_index: dict[str, int] = {}
    for index, text in enumerate(texts):
        for char in text:
            if char not in known:
                counts[char] += 1
                first_index.setdefault(char, index)
    return counts, first_index
