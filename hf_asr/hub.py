"""Saving a Hub-ready model folder (weights, config with the full auto_map, processor and the model code) and
loading one back with every missing or corrupt file named."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .modeling.atomic_write import staged_folder
from .modeling.model_folder import check_model_folder


def save_model_folder(
    model: Any,
    processor: Any,
    out_dir: str | os.PathLike,
    extra_files: dict[str, str] | None = None,
    **save_kwargs: Any,
) -> Path:
    """Write `model` and `processor` into `out_dir` atomically.

    Everything is written to a hidden sibling folder first and swapped into place (`staged_folder`), so an
    interrupted save never leaves a half-written folder, and a previous folder is replaced only once the new one
    is whole.
    The folder loads with the Auto classes (with hf_asr imported, or without it through
    `trust_remote_code=True`, since the model code is copied in). `extra_files` maps file names to text
    (a model card README.md, say) written into the same folder before it is moved into place.
    Raises FileExistsError naming `out_dir` when it is a file (left untouched), before anything is written.
    """
    out_dir = Path(out_dir)
    for name, text in (extra_files or {}).items():
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            raise ValueError(f"extra_files names must be plain file names inside the folder, got {name!r}")
        if not isinstance(text, str):
            raise TypeError(f"extra_files[{name!r}] must be text (str), got {type(text).__name__}")
    with staged_folder(out_dir) as staging:
        model.save_pretrained(staging, **save_kwargs)
        if processor is not None:
            processor.save_pretrained(staging)
        for name, text in (extra_files or {}).items():
            (staging / name).write_text(text)
    return out_dir


def load_model_folder(folder: str | os.PathLike, model_class: Any = None, **load_kwargs: Any) -> tuple[Any, Any]:
    """(model, processor) of a saved model folder, after `check_model_folder`: a missing `config.json`, weights or
    `vocab.json` raises `MissingModelFileError` (a FileNotFoundError), truncated weights `CorruptModelFileError`
    (a ValueError), each naming the file. `model_class` defaults to `LogMelWav2Vec2ForCTC`."""
    from .modeling.model import LogMelWav2Vec2ForCTC
    from .modeling.processing import LogMelWav2Vec2Processor

    check_model_folder(folder)
    model = (model_class or LogMelWav2Vec2ForCTC).from_pretrained(str(folder), **load_kwargs)
    return model, LogMelWav2Vec2Processor.from_pretrained(str(folder))
