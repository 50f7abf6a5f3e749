"""Transcript normalisation and unknown-character checks.

The CTC tokenizer silently maps any character outside its vocabulary to `<unk>` (uppercase, accents, NFD forms,
curly apostrophes...). These helpers make that visible: normalise first, then check against the alphabet and fail
(or warn) with a message that names each offending character; a non-string transcript fails naming its sample.
"""

from __future__ import annotations

import re
import unicodedata

# The checks live with the processor (hf_asr/modeling ships without hf_asr.data); one copy, re-exported here.
from ..modeling.transcripts import (
    TranscriptTypeError,
    UnknownCharactersError,
    UnknownCharactersWarning,
    check_transcripts,
    find_unknown_characters,
    report_unknown_characters,
    require_transcript,
    tokenizer_alphabet,
)

# Typographic apostrophes and quote-like marks that stand for an apostrophe inside words ("don’t").
_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc\u2032\u0060\u00b4\uff07"})
_SPACES = re.compile(r"\s+")
_ASCII_NON_LETTERS = re.compile(r"[^a-z']+")


def normalize_transcript(text: str, index: int | None = None, column: str | None = None) -> str:
    """Return `text` in the form the vocabulary expects.

    Steps, in order: Unicode NFKC (so NFD forms such as "e" + combining acute compose into one "é", and ligatures
    like "ﬁ" split into "fi"), casefold (lowercase, also "ß" -> "ss"), typographic apostrophes -> `'`, every character
    that is neither a letter, a combining mark nor `'` -> space, runs of spaces collapsed, ends stripped.
    Accents are kept ("café" stays "café"): whether they belong in the alphabet is for `check_transcripts` to say.

    Example: ``normalize_transcript("Don’t  STOP—now!") == "don't stop now"``.
    `index`/`column` name the sample in the `TranscriptTypeError` raised for a non-string (None: an empty cell).
    """
    text = require_transcript(text, index, column)
    if text.isascii():  # fast path: NFKC and casefold are identities beyond lower() here
        return _ASCII_NON_LETTERS.sub(" ", text.lower()).strip()
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    # Casefold can emit combining marks again (e.g. "İ" -> "i̇"): compose once more so they stay one character.
    text = unicodedata.normalize("NFC", text)
    # Combining marks that could not compose stay with their letter rather than splitting the word.
    kept = [c if (c.isalpha() or c == "'" or unicodedata.category(c).startswith("M")) else " " for c in text]
    return _SPACES.sub(" ", "".join(kept)).strip()


__all__ = [
    "normalize_transcript",
    "TranscriptTypeError",
    "UnknownCharactersError",
    "UnknownCharactersWarning",
    "require_transcript",
    "find_unknown_characters",
    "check_transcripts",
    "report_unknown_characters",
    "tokenizer_alphabet",
]
