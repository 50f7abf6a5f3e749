"""Transcribe audio files with a saved model folder through the transformers ASR pipeline (+ its LM if saved)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..data.audio import read_audio
from ..modeling.decoder_options import not_negative_number, positive_int
from ..modeling.lm_decoder import LMDecoder
from ..modeling.progress import AudioProgress
from .backends import BACKENDS, load_lm_decoder
from .pipeline import TASK, register_pipeline


def transcribe(
    files: Sequence[str | os.PathLike],
    model_dir: str | os.PathLike,
    use_lm: bool = True,
    timestamps: bool = False,
    chunk_length_s: float | None = None,
    batch_size: int = 1,
    device: str | int | None = None,
    backend: str = "pyctcdecode",
) -> list[dict[str, Any]]:
    """[{"file", "text", "chunks"?}] for each audio file (one path alone is one file); word timestamps in seconds
    when `timestamps`. Bad option values raise errors naming them before anything is loaded.

    Uses the folder's saved LM unless `use_lm=False` (or the folder has none: then greedy CTC, and "lm" is False),
    decoded by `backend` ("pyctcdecode" or "flashlight", see `load_lm_decoder`). Files over a minute are chunked
    when `chunk_length_s` is None (see `LMSpeechRecognitionPipeline`), never when it is 0; a progress bar (stderr)
    counts the seconds transcribed when there are over a minute of them.
    """
    from transformers import pipeline

    batch_size = positive_int("batch_size", batch_size)
    if chunk_length_s is not None:
        chunk_length_s = not_negative_number("chunk_length_s", chunk_length_s)
    if backend not in BACKENDS:
        raise ValueError(f"unknown LM decoding backend {backend!r}; choose one of {BACKENDS}")
    if isinstance(files, (str, os.PathLike)):
        files = [files]  # one file, not its characters
    register_pipeline()
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise FileNotFoundError(f"model folder {model_dir} does not exist")
    decoder = None
    if use_lm and backend != "pyctcdecode" and LMDecoder.exists_in(model_dir):
        decoder = load_lm_decoder(model_dir, backend)
    asr = pipeline(TASK, model=str(model_dir), use_lm=use_lm, decoder=decoder, device=device)
    inputs, seconds = [], []
    for path in files:
        audio, rate = read_audio(path)
        inputs.append({"raw": audio, "sampling_rate": rate})
        seconds.append(len(audio) / rate)
    options: dict[str, Any] = {"batch_size": batch_size}
    if timestamps:
        options["return_timestamps"] = "word"
    if chunk_length_s is not None:  # 0: never chunk
        options["chunk_length_s"] = chunk_length_s
    progress, total, done = AudioProgress("transcribing"), sum(seconds), 0.0
    progress.update(done, total)
    outputs = []
    for output, duration in zip(asr((x for x in inputs), **options), seconds):  # a generator: one by one, in order
        outputs.append(output)
        done += duration
        progress.update(done, total)
    uses_lm = asr.type == "ctc_with_lm"
    return [{"file": str(path), "lm": uses_lm, **output} for path, output in zip(files, outputs)]
