"""Checks of a local model folder before transformers reads it, so that a missing or corrupt file is named.

transformers reports a folder without `vocab.json` as "expected str, bytes or os.PathLike object, not NoneType",
and a truncated `model.safetensors` as a safetensors header error without the file's path. These checks say which
file of which folder is missing or corrupt, and what to do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"  # Wav2Vec2CTCTokenizer's vocabulary
WEIGHTS_SUFFIXES = (".safetensors", ".bin")


class MissingModelFileError(FileNotFoundError):
    """A model folder lacks a file it needs; the message names the folder and the file."""


class CorruptModelFileError(ValueError):
    """A file of a model folder cannot be read (truncated, not what its name says); the message names it."""


def local_folder(name_or_path: Any) -> Path | None:
    """The folder `name_or_path` names when it is a local directory; None for a Hub repo id (checked remotely)."""
    if isinstance(name_or_path, (str, os.PathLike)) and Path(name_or_path).is_dir():
        return Path(name_or_path)
    return None


def check_processor_files(folder: Path) -> None:
    """Raise `MissingModelFileError` if `folder` lacks the tokenizer's `vocab.json`."""
    if not (folder / VOCAB_FILE).is_file():
        raise MissingModelFileError(
            f"model folder {folder} has no {VOCAB_FILE} (the tokenizer's vocabulary), so its processor cannot be "
            "loaded; save the model with hf_asr.hub.save_model_folder(model, processor, folder), or copy vocab.json "
            "from the folder the tokenizer was built in"
        )


def check_weights_files(folder: Path) -> None:
    """Raise `CorruptModelFileError` naming the first `*.safetensors` file of `folder` whose header does not
    describe exactly the bytes the file holds (truncated or not a safetensors file)."""
    for path in sorted(folder.glob("*.safetensors")):
        problem = _safetensors_problem(path)
        if problem:
            raise CorruptModelFileError(
                f"model weights {path} are corrupt: {problem}; save the model again (or copy the file again)"
            )


def check_model_folder(folder: str | os.PathLike, processor: bool = True) -> None:
    """Check a local model folder: `config.json`, weights that read whole, and (with `processor`) `vocab.json`.

    Raises `MissingModelFileError` (a FileNotFoundError) or `CorruptModelFileError` (a ValueError) naming the file.
    """
    path = Path(folder)
    if not path.is_dir():
        raise MissingModelFileError(f"model folder {path} does not exist (or is not a folder)")
    if not (path / CONFIG_FILE).is_file():
        raise MissingModelFileError(f"model folder {path} has no {CONFIG_FILE}; it is not a saved model folder")
    if not any(p.suffix in WEIGHTS_SUFFIXES for p in path.iterdir()):
        raise MissingModelFileError(f"model folder {path} has no weights (model.safetensors)")
    check_weights_files(path)
    if processor:
        check_processor_files(path)


def _safetensors_problem(path: Path) -> str | None:
    """Why `path` is not a whole safetensors file (reads only its header), or None."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        length_bytes = handle.read(8)
        if len(length_bytes) < 8:
            return f"the file holds {size} bytes, fewer than the 8 of a safetensors header length"
        header_length = int.from_bytes(length_bytes, "little")
        if 8 + header_length > size:
            return f"its header claims {header_length} bytes but the file holds only {size} (truncated?)"
        try:
            header = json.loads(handle.read(header_length))
            ends = [entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"]
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
            return f"its header is not a safetensors header ({type(error).__name__}: {error})"
    expected = 8 + header_length + max(ends, default=0)
    if expected != size:
        state = "truncated" if size < expected else "longer than its header says"
        return f"its tensors need {expected} bytes but the file holds {size} ({state})"
    return None


__all__ = [
    "MissingModelFileError",
    "CorruptModelFileError",
    "check_model_folder",
    "check_processor_files",
    "check_weights_files",
    "local_folder",
]
