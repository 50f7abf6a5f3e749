"""What loading a corpus reports: errors that name the file, split or column at fault, and dropped rows."""

from __future__ import annotations


class CorpusError(ValueError):
    """A corpus cannot be used as asked (unknown layout, missing file, column or split, unreadable audio, wrong
    sampling rate)."""


class AudioDecodingError(CorpusError):
    """One audio file/blob of a corpus could not be decoded; the message names it."""


class DroppedRowsWarning(UserWarning):
    """Rows of a corpus listing were left out (a Common Voice row without a sentence); the message says how many
    and names the file."""


__all__ = ["CorpusError", "AudioDecodingError", "DroppedRowsWarning"]
