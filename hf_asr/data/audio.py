"""Reading audio, in one place: `datasets` audio cells of every form (torchcodec), and files and wav bytes
(soundfile, in `hf_asr/modeling/audio_files.py`, which ships with the model code; re-exported here).

Every reader returns mono float32 samples of shape (num_samples,) and the sampling rate; channels are averaged.
A wav file whose header promises more samples than the file holds (a truncated copy) is read with a
`TruncatedAudioWarning` naming the file and both counts.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from ..modeling.audio_files import AudioReadError, TruncatedAudioWarning, read_audio, warn_if_truncated

_CELL_FORMS = (
    "a datasets.Audio value ({'array', 'sampling_rate'} or {'bytes', 'path'}), a file path or a 1-D sequence of samples"
)


def audio_array(value: Any, where: str | None = None) -> tuple[np.ndarray, int | None]:
    """A `datasets` audio cell -> (mono float32 samples, rate); rate is None for bare samples.

    Accepts a decoded {"array", "sampling_rate"} dict, an undecoded {"bytes", "path"} dict (`Audio(decode=False)`),
    a torchcodec AudioDecoder (datasets' default decoding), a file path, or bare samples (an array or a list of
    numbers). Anything else raises AudioReadError naming `where` (e.g. "sample 3 in column 'audio'") and what the
    cell holds.
    """
    label = f" of {where}" if where else ""
    if hasattr(value, "get_all_samples"):
        samples = value.get_all_samples()
        encoded = getattr(value, "_hf_encoded", None) or {}  # datasets keeps the cell's {"path", "bytes"} here
        source = encoded.get("bytes") or encoded.get("path")
        if source is not None:
            warn_if_truncated(source, repr(encoded.get("path") or "<audio bytes>") + label)
        return samples.data.numpy().mean(0).astype(np.float32), int(samples.sample_rate)
    if isinstance(value, (str, Path)):
        return read_audio(value, name=f"{str(value)!r}{label}")
    if isinstance(value, dict) and "array" not in value and ("bytes" in value or "path" in value):
        source = value.get("bytes") or value.get("path")
        if source is None:
            raise AudioReadError(f"the audio cell{label} holds neither bytes nor a path")
        return read_audio(source, name=value.get("path"))
    if isinstance(value, dict) or hasattr(value, "__getitem__") and not isinstance(value, (np.ndarray, list, tuple)):
        missing = [key for key in ("array", "sampling_rate") if key not in value or value[key] is None]
        if missing:
            raise AudioReadError(f"the audio cell{label} has no {missing}; expected {_CELL_FORMS}")
        return _samples(value["array"], label).reshape(-1), int(value["sampling_rate"])
    return _samples(value, label), None


def _samples(value: Any, label: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise AudioReadError(
            f"the audio cell{label} holds {type(value).__name__} {str(value)[:60]!r}, not audio; "
            f"expected {_CELL_FORMS} ({error})"
        ) from error
    return array


def audio_column_problem(feature: Any, column: str = "audio") -> str | None:
    """Why a `datasets` column `column` with `feature` cannot be cast to `datasets.Audio`, or None if it can.

    Castable: Audio, file paths (string), bytes, {"bytes", "path"} and {"array", "sampling_rate"} structs. Raw
    sample lists have no sampling rate: the message says how to give them one.
    """
    import datasets

    if isinstance(feature, datasets.Audio):
        return None
    if isinstance(feature, datasets.Value) and feature.dtype in ("string", "large_string", "binary", "large_binary"):
        return None
    if isinstance(feature, dict) and ({"bytes", "path"} & set(feature) or {"array", "sampling_rate"} <= set(feature)):
        return None
    inner = getattr(feature, "feature", None)
    if isinstance(inner, datasets.Value) and inner.dtype.startswith(("float", "int", "uint")):
        return (
            f"holds raw samples ({feature}) without a sampling rate, not audio: give them their rate with "
            f"corpus.map(lambda a: {{{column!r}: {{'array': a, 'sampling_rate': RATE}}}}, input_columns={column!r})"
            f".cast_column({column!r}, datasets.Audio()), or pass the corpus to prepare_dataset as it is (samples are "
            "taken to be at the feature extractor's rate)"
        )
    return f"holds {feature}, not audio; expected {_CELL_FORMS}"


def decode_with_datasets(value: dict[str, Any], feature: Any, where: str) -> tuple[np.ndarray, int]:
    """Decode an undecoded {"bytes", "path"} cell as the `datasets.Audio` feature would (torchcodec: every format
    FFmpeg reads, resampled by the feature); wav and flac that need no resampling or downmix are read with soundfile
    instead (the same samples, faster). Raises AudioReadError naming the file and `where` it comes from."""
    name = value.get("path") or "<audio bytes without a path>"
    source = value.get("bytes") or value.get("path")
    decoded = _read_lossless(source, feature)
    if decoded is None:
        try:
            samples = feature.decode_example(value).get_all_samples()
        except Exception as error:
            raise AudioReadError(f"cannot decode audio {name!r} in {where}: {error}") from error
        decoded = samples.data.numpy().mean(0).astype(np.float32, copy=False), int(samples.sample_rate)
    if source is not None:
        warn_if_truncated(source, f"{name!r} in {where}")
    return decoded


# Lossless files decode to the same samples with soundfile as with torchcodec, ~15x faster per cell (0.3 vs 4.8 ms
# for 2 s of 16 kHz wav: torchcodec builds an FFmpeg decoder for each). Lossy ones keep FFmpeg's decoder, whose
# handling of encoder delay libsndfile need not share.
_LOSSLESS_FORMATS = ("WAV", "WAVEX", "FLAC")


def _read_lossless(source: str | bytes | None, feature: Any) -> tuple[np.ndarray, int] | None:
    """(mono float32 samples, rate) of a wav/flac `source` that `feature` would decode unchanged (its rate, and mono
    or no channel target); None otherwise (torchcodec decodes it, and names any problem)."""
    import soundfile

    if source is None:
        return None
    try:
        with soundfile.SoundFile(io.BytesIO(source) if isinstance(source, bytes) else str(source)) as handle:
            if (
                handle.format not in _LOSSLESS_FORMATS
                or feature.sampling_rate not in (None, handle.samplerate)
                or (handle.channels > 1 and feature.num_channels is not None)
            ):
                return None
            return handle.read(dtype="float32", always_2d=True).mean(axis=1), int(handle.samplerate)
    except Exception:  # soundfile's LibsndfileError and others: unreadable here, torchcodec tries
        return None


__all__ = [
    "AudioReadError",
    "TruncatedAudioWarning",
    "read_audio",
    "warn_if_truncated",
    "audio_array",
    "audio_column_problem",
    "decode_with_datasets",
]
