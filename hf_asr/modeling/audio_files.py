"""Reading audio files and wav bytes with soundfile (no ffmpeg program), warning about truncated wav files.

The reader returns mono float32 samples of shape (num_samples,) and the sampling rate; channels are averaged.
A wav file whose header promises more samples than the file holds (a truncated copy) is read with a
`TruncatedAudioWarning` naming the file and both counts. This file ships with the model code (the pipeline reads
files with it), so it imports only numpy and soundfile.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np

_HEADER_BYTES = 1 << 16  # enough for the RIFF chunks before "data" in any ordinary wav file


class AudioReadError(ValueError):
    """An audio file or blob could not be read; the message names it."""


class TruncatedAudioWarning(UserWarning):
    """A wav file holds fewer samples than its header promises (cut short while copying or writing)."""


def read_audio(source: str | Path | bytes, name: str | None = None) -> tuple[np.ndarray, int]:
    """(mono float32 waveform (num_samples,), sampling rate) of an audio file path or its bytes, via soundfile.

    soundfile reads wav/flac/ogg without the ffmpeg program. Raises AudioReadError naming `name` (or the path).
    """
    import soundfile

    label = name or (str(source) if not isinstance(source, bytes) else "<audio bytes>")
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
        audio, rate = soundfile.read(handle, dtype="float32", always_2d=True)
    except Exception as error:  # soundfile raises its own LibsndfileError (a RuntimeError) and others
        raise AudioReadError(f"cannot read audio {label}: {error}") from None
    warn_if_truncated(source, label)
    return audio.mean(axis=1), int(rate)


def warn_if_truncated(source: str | Path | bytes, name: str) -> None:
    """Warn (`TruncatedAudioWarning`, naming `name`) when `source` is a wav whose header promises more samples
    than the file holds; other formats and whole files pass silently."""
    try:
        if isinstance(source, (bytes, bytearray)):
            header, size = bytes(source[:_HEADER_BYTES]), len(source)
        else:
            with open(source, "rb") as handle:
                header, size = handle.read(_HEADER_BYTES), os.fstat(handle.fileno()).st_size
    except OSError:
        return
    counts = _wav_sample_counts(header, size)
    if counts is not None and counts[1] < counts[0]:
        warnings.warn(
            f"audio {name}: the wav header promises {counts[0]} samples but the file holds only {counts[1]} "
            "(a truncated file?); using the samples there are",
            TruncatedAudioWarning,
            stacklevel=3,
        )


def _wav_sample_counts(header: bytes, file_size: int) -> tuple[int, int] | None:
    """(samples per channel the RIFF header promises, samples the file holds), or None if not a plain wav."""
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        return None  # RF64 and others keep their sizes elsewhere
    position, block_align = 12, 0
    while position + 8 <= len(header):
        chunk, size = header[position : position + 4], int.from_bytes(header[position + 4 : position + 8], "little")
        if chunk == b"fmt " and position + 22 <= len(header):
            block_align = int.from_bytes(header[position + 20 : position + 22], "little")  # bytes per frame
        if chunk == b"data":
            if not block_align or size in (0, 0xFFFFFFFF):  # streamed wavs leave the size open
                return None
            return size // block_align, max(0, file_size - position - 8) // block_align
        position += 8 + size + (size & 1)
    return None


__all__ = ["AudioReadError", "TruncatedAudioWarning", "read_audio", "warn_if_truncated"]
