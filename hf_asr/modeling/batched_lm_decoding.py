"""LMDecoder's `beam_search="batched"` path: many utterances (or the segments of a long one) through
`BatchedBeamSearch` at once, with the results in pyctcdecode's beam format.

Utterances are shortened by `frame_skipping` (exact; with `blank_skip_logp` approximate), sorted by length and
decoded in groups of `GROUP_SIZE`: a group runs until its longest member ends and works on as many candidate labels
per frame as its busiest member has, so groups of similar lengths waste least; a bigger group spends fewer Python
steps per utterance. Measured on the demo model's posteriors (160 utterances, beam 32, 2 CPU cores, 2 workers):
groups of 16: 1.09 s, 32: 0.81 s, 48: 0.74 s, 80: 0.75 s. Groups go to forked workers on the CPU, longest first; on
a GPU they run in this process.

Torch and numpy only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .batched_beam_search import BatchedBeamSearch, path_words
from .fork_pool import fork_map
from .frame_skipping import ShortenedFrames, skip_repeated_frames
from .ngram_tables import NgramTables
from .tensor_lm import TensorNgramLM

GROUP_SIZE = 48


def load_batched_search(
    labels: Sequence[str],
    tables_path: str | os.PathLike | None,
    unigrams: Sequence[str],
    lm_params: dict[str, Any],
    device: torch.device | str = "cpu",
) -> BatchedBeamSearch:
    """The batched search over `labels` with the n-gram tables at `tables_path` (None: no LM)."""
    lm = None if tables_path is None else TensorNgramLM(NgramTables.load(Path(tables_path)), device)
    return BatchedBeamSearch(labels, lm, unigrams, **lm_params)


def decode_batched(
    search: BatchedBeamSearch,
    log_probs: Sequence[np.ndarray],
    settings: dict[str, Any],
    num_processes: int | None = 1,
) -> list[tuple]:
    """The best beam of each (T_i, V) log-prob array (T_i >= 1) as pyctcdecode's tuple: (text, None,
    [(word, (start, end))], logit_score, score), frames indexing the original arrays."""
    if settings.get("hotwords"):
        raise ValueError("hotwords need beam_search='pyctcdecode'; the batched search does not support them")
    shortened = [
        skip_repeated_frames(x, settings["token_min_logp"], search.blank_id, settings["blank_skip_logp"])
        for x in log_probs
    ]
    order = np.argsort([len(s.log_probs) for s in shortened], kind="stable")
    on_gpu = search.device.type != "cpu"
    workers = 1 if on_gpu else min(num_processes or os.cpu_count() or 1, len(order))
    # Equal groups of at most GROUP_SIZE, a whole number per worker (160 utterances on 2: four of 40, not
    # 48+48+48+16), longest first: the workers take groups as they finish, so the costliest do not come last.
    count = workers * -(-len(order) // (GROUP_SIZE * workers))
    groups = [part for part in np.array_split(order, count) if len(part)][::-1]

    def decode_group(members: np.ndarray) -> list[tuple]:
        paths = search.decode(
            [shortened[i].log_probs for i in members],
            beam_width=settings["beam_width"],
            beam_prune_logp=settings["beam_prune_logp"],
            token_min_logp=settings["token_min_logp"],
        )
        return [_beam(path, shortened[i], search) for i, path in zip(members, paths)]

    # On the CPU one thread per process (forked worker or this one): the tensors are small, and more intra-op
    # threads only spin (2 threads: 1.9x the CPU time for the same wall time, demo posteriors, 2 cores).
    threads = torch.get_num_threads()
    if not on_gpu:
        torch.set_num_threads(1)
    try:
        decoded = fork_map(decode_group, groups, workers)
    finally:
        torch.set_num_threads(threads)
    beams: list[tuple] = [None] * len(log_probs)  # type: ignore[list-item]
    for members, results in zip(groups, decoded):
        for i, beam in zip(members, results):
            beams[i] = beam
    return beams


def _beam(path: Any, frames: ShortenedFrames, search: BatchedBeamSearch) -> tuple:
    words = path_words(path.labels, search.labels, search.blank_id)
    return (
        " ".join(word for word, _ in words),
        None,
        [(word, frames.original_span(start, end)) for word, (start, end) in words],
        path.logit_score + frames.skipped_score,
        path.score + frames.skipped_score,
    )


__all__ = ["decode_batched", "load_batched_search", "GROUP_SIZE"]
