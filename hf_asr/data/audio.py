"""Reading audio, in one place: files and wav bytes (soundfile), `datasets` audio cells of every form (torchcodec).

Every reader returns mono float32 samples of shape (num_samples,) and the sampling rate; channels are averaged.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np


class AudioReadError(ValueError):
    """An audio file or blob could not be read; the message names it."""


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
    return audio.mean(axis=1), int(rate)


def audio_array(value: Any) -> tuple[np.ndarray, int | None]:
    """A `datasets` audio cell -> (mono float32 samples, rate); rate is None for a bare array.

    Accepts a decoded {"array", "sampling_rate"} dict, an undecoded {"bytes", "path"} dict (`Audio(decode=False)`),
    a torchcodec AudioDecoder (datasets' default decoding) or a bare array.
    """
    if hasattr(value, "get_all_samples"):
        samples = value.get_all_samples()
        return samples.data.numpy().mean(0).astype(np.float32), int(samples.sample_rate)
    if isinstance(value, dict) and "array" not in value and ("bytes" in value or "path" in value):
        source = value.get("bytes") or value.get("path")
        if source is None:
            raise AudioReadError("an audio cell holds neither bytes nor a path")
        return read_audio(source, name=value.get("path"))
    if isinstance(value, dict) or hasattr(value, "__getitem__") and not isinstance(value, (np.ndarray, list)):
        return np.asarray(value["array"], dtype=np.float32).reshape(-1), int(value["sampling_rate"])
    return np.asarray(value, dtype=np.float32), None


def decode_with_datasets(value: dict[str, Any], feature: Any, where: str) -> tuple[np.ndarray, int]:
    """Decode an undecoded {"bytes", "path"} cell with a `datasets.Audio` feature (torchcodec: every format FFmpeg
    reads, resampled by the feature). Raises AudioReadError naming the file and `where` it comes from."""
    name = value.get("path") or "<audio bytes without a path>"
    try:
        samples = feature.decode_example(value).get_all_samples()
    except Exception as error:
        raise AudioReadError(f"cannot decode audio {name!r} in {where}: {error}") from error
    return samples.data.numpy().mean(0).astype(np.float32, copy=False), int(samples.sample_rate)


__all__ = ["AudioReadError", "read_audio", "audio_array", "decode_with_datasets"]
