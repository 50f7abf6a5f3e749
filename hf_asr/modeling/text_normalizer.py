"""The one text normaliser of a model: vocabulary, labels, references, LM text and metrics all go through it.

It is saved with the processor (`text_normalizer.json`), so inference and evaluation normalise as training did:

    normalizer = TextNormalizer(numbers="words")        # "in 2019, 3 cats!" -> "in twenty nineteen three cats"
    normalizer.save_pretrained(folder); TextNormalizer.from_pretrained(folder)

Steps, in order: Unicode NFKC (NFD forms compose, ligatures split), numbers (see `NUMBER_POLICIES`), casefold
(unless `lowercase=False`), typographic apostrophes -> `'`, every other character that is neither a letter, a
combining mark nor `'` (nor a digit with `numbers="keep"`) -> space, runs of spaces collapsed. Accents are kept:
whether they belong in the alphabet is for the unknown-character check to say.

Numbers are spoken as words by num2words (56 languages), not by rules of our own; transformers'
`EnglishTextNormalizer` goes the other way (words -> digits, for scoring), which a letter vocabulary cannot learn.
"""

from __future__ import annotations

import collections
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from .atomic_write import atomic_write_text
from .transcripts import require_transcript

NORMALIZER_FILE = "text_normalizer.json"
NUMBER_POLICIES = {
    "words": "digits are spoken as words in `language` (num2words): '2019' -> 'twenty nineteen', '3.5' -> "
    "'three point five', '21st' -> 'twenty-first'",
    "drop": "digits are removed like punctuation",
    "keep": "digits stay as characters (the vocabulary then holds 0-9)",
}

# Typographic apostrophes and quote-like marks that stand for an apostrophe inside words ("don’t").
_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc\u2032\u0060\u00b4\uff07"})
_SPACES = re.compile(r"\s+")
_ASCII_NON_LETTERS = re.compile(r"[^a-z']+")
# A number as written: 1,000 / 3.5 / 21st / 2019 (thousands separators only between groups of three digits).
_NUMBER = re.compile(r"(?<!\d)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:(st|nd|rd|th)(?![a-z]))?(?!\d)", re.I)
_ANY_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class TextNormalizer:
    """Text -> the form the vocabulary holds. See the module docstring for the steps.

    numbers: one of `NUMBER_POLICIES` ("words", "drop", "keep").
    language: num2words language code for `numbers="words"` ("en", "fr", "de", ...).
    lowercase: casefold ("ß" -> "ss"); False keeps the case (a cased vocabulary).
    """

    numbers: str = "words"
    language: str = "en"
    lowercase: bool = True

    def __post_init__(self) -> None:
        if self.numbers not in NUMBER_POLICIES:
            raise ValueError(f"numbers={self.numbers!r}: expected one of {sorted(NUMBER_POLICIES)}")
        if not isinstance(self.lowercase, bool):
            raise ValueError(f"lowercase={self.lowercase!r}: expected true or false")
        if self.numbers == "words":
            _spoken_number("1", None, None, self.language)  # an unknown language fails here, not mid-corpus

    def __call__(self, text: str, index: int | None = None, column: str | None = None) -> str:
        """The normalised `text`. `index`/`column` name the sample in the `TranscriptTypeError` for a non-string.

        Example: ``TextNormalizer()("Don’t  STOP—now, 2 times!") == "don't stop now two times"``.
        """
        text = self._spell_numbers(require_transcript(text, index, column))
        if text.isascii() and self.lowercase and self.numbers != "keep":  # fast path: NFKC, casefold are lower()
            return _ASCII_NON_LETTERS.sub(" ", text.lower()).strip()
        text = unicodedata.normalize("NFKC", text)
        if self.lowercase:
            text = text.casefold()
        # Casefold can emit combining marks again (e.g. "İ" -> "i̇"): compose once more so they stay one character.
        text = unicodedata.normalize("NFC", text.translate(_APOSTROPHES))
        keep_digits = self.numbers == "keep"
        # Combining marks that could not compose stay with their letter rather than splitting the word.
        kept = [c if _is_kept(c, keep_digits) else " " for c in text]
        return _SPACES.sub(" ", "".join(kept)).strip()

    def removed_characters(self, texts: Iterable[str]) -> collections.Counter[str]:
        """Count the characters normalisation turns into spaces (punctuation, symbols; digits with "drop").

        Digits that `numbers="words"` speaks are not counted: they are rewritten, not lost.
        """
        removed: collections.Counter[str] = collections.Counter()
        keep_digits = self.numbers != "drop"
        for text in texts:
            text = require_transcript(text)
            if self.numbers == "words":
                text = _NUMBER.sub(" ", text)
            text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
            removed.update(c for c in text if not c.isspace() and not _is_kept(c, keep_digits))
        return removed

    def _spell_numbers(self, text: str) -> str:
        if self.numbers != "words" or not _ANY_DIGIT.search(text):
            return text
        return _NUMBER.sub(lambda match: f" {_spoken_number(*match.groups(), self.language)} ", text)

    # --- saving ---------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "text normaliser settings") -> TextNormalizer:
        """From `to_dict()` output; ValueError naming `where` and the unknown key or bad value."""
        if not isinstance(values, dict):
            raise ValueError(f"{where}: expected a JSON object, got {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{where}: unknown keys {unknown}; the keys are {sorted(known)}")
        try:
            return cls(**values)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from error

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write `text_normalizer.json` into `folder` (atomically); returns its path."""
        path = Path(folder) / NORMALIZER_FILE
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> TextNormalizer | None:
        """The normaliser saved in `folder`, or None when it has no `text_normalizer.json`."""
        path = Path(folder) / NORMALIZER_FILE
        if not path.is_file():
            return None
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON: {error}") from error
        return cls.from_dict(values, where=str(path))

    @classmethod
    def of_model_folder(cls, folder: str | Path | None) -> TextNormalizer:
        """The normaliser a model folder was trained with: its saved one, else (saved before normalisers were
        saved with models) `LEGACY_NORMALIZER`."""
        saved = cls.from_pretrained(folder) if folder is not None else None
        return saved or LEGACY_NORMALIZER


# Folders saved before the normaliser was saved with them were trained with digits dropped.
LEGACY_NORMALIZER = TextNormalizer(numbers="drop")


def _is_kept(character: str, keep_digits: bool) -> bool:
    return (
        character.isalpha()
        or character == "'"
        or unicodedata.category(character).startswith("M")
        or (keep_digits and character.isdigit())
    )


def _spoken_number(whole: str, fraction: str | None, ordinal_suffix: str | None, language: str) -> str:
    """One written number as words: years (1100-2099, no separators) as years, ordinals, decimals, cardinals."""
    try:
        from num2words import num2words
    except ImportError as error:
        raise ImportError("numbers='words' needs num2words: `pip install num2words`") from error
    digits = whole.replace(",", "")
    try:
        if fraction is not None:
            return num2words(float(f"{digits}.{fraction}"), lang=language)
        if ordinal_suffix is not None:
            return num2words(int(digits), lang=language, to="ordinal")
        if "," not in whole and len(digits) == 4 and 1100 <= int(digits) <= 2099 and not digits.startswith("0"):
            return num2words(int(digits), lang=language, to="year")
        return num2words(int(digits), lang=language)
    except OverflowError:  # beyond the language's largest named number: digit by digit
        return " ".join(num2words(int(digit), lang=language) for digit in digits)
    except NotImplementedError as error:
        from num2words import CONVERTER_CLASSES

        raise ValueError(
            f"num2words cannot speak numbers in language {language!r}; its languages are {sorted(CONVERTER_CLASSES)}"
            " (or use numbers='drop' / 'keep')"
        ) from error


__all__ = ["TextNormalizer", "NORMALIZER_FILE", "NUMBER_POLICIES", "LEGACY_NORMALIZER"]
