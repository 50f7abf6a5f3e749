"""Pick the LM beam-search backend for a saved decoder folder: pyctcdecode (default) or flashlight."""

from __future__ import annotations

import os
from typing import Any

from ..modeling.lm_decoder import LMDecoder

BACKENDS = ("pyctcdecode", "flashlight")


def load_lm_decoder(directory: str | os.PathLike, backend: str = "pyctcdecode", **overrides: Any) -> Any:
    """`LMDecoder` (pyctcdecode, Python, any word) or `FlashlightLMDecoder` (C++, lexicon words only) built from
    the same saved folder; both have `decode`, `decode_batch` and `decode_beams` (what the ASR pipeline calls)."""
    if backend == "pyctcdecode":
        return LMDecoder.from_pretrained(directory, **overrides)
    if backend == "flashlight":
        from .flashlight_decoder import FlashlightLMDecoder

        return FlashlightLMDecoder.from_pretrained(directory, **overrides)
    raise ValueError(f"unknown LM decoding backend {backend!r}; choose one of {BACKENDS}")
