"""Transcript normalisation and unknown-character checks.

The CTC tokenizer silently maps any character outside its vocabulary to `<unk>` (uppercase, accents, NFD forms,
curly apostrophes...). These helpers make that visible: normalise first, then check against the alphabet and fail
(or warn) with a message that names each offending character; a non-string transcript fails naming its sample.
"""

from __future__ import annotations

# The checks live with the processor (hf_asr/modeling ships without hf_asr.data); one copy, re-exported here.
from ..modeling.text_normalizer import NUMBER_POLICIES, TextNormalizer
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

DEFAULT_NORMALIZER = TextNormalizer()


def normalize_transcript(text: str, index: int | None = None, column: str | None = None) -> str:
    """`text` through the default `TextNormalizer` (digits spoken as English words, lowercase, letters and `'`).

    Example: ``normalize_transcript("Don’t  STOP—now, 2 times!") == "don't stop now two times"``.
    A model's own normaliser is `processor.text_normalizer`; use that one for its labels, references and LM text.
    """
    return DEFAULT_NORMALIZER(text, index, column)


def chosen_normalizer(
    numbers: str | None = None,
    language: str | None = None,
    keep_case: bool | None = None,
    saved: TextNormalizer | None = None,
    where: str = "the model",
) -> TextNormalizer:
    """The normaliser that options ask for (None: not given, the default setting).

    With `saved` (the normaliser a vocabulary or model was made with) that one is returned, and a given option
    that disagrees with it raises ValueError naming `where`: labels normalised differently would not match it.
    """
    given = {"numbers": numbers, "language": language, "lowercase": None if keep_case is None else not keep_case}
    given = {key: value for key, value in given.items() if value is not None}
    if saved is None:
        return TextNormalizer(**given)
    differing = {key: value for key, value in given.items() if getattr(saved, key) != value}
    if differing:
        raise ValueError(
            f"{where} was made with {saved}; the options ask for {differing}: drop them, or rebuild it with them"
        )
    return saved


__all__ = [
    "chosen_normalizer",
    "normalize_transcript",
    "TextNormalizer",
    "DEFAULT_NORMALIZER",
    "NUMBER_POLICIES",
    "TranscriptTypeError",
    "UnknownCharactersError",
    "UnknownCharactersWarning",
    "require_transcript",
    "find_unknown_characters",
    "check_transcripts",
    "report_unknown_characters",
    "tokenizer_alphabet",
]
