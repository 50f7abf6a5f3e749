"""Speed-up of CTC beam search: drop the frames that cannot change its result (exact), or, when asked, runs of
near-certain blanks too (approximate), and map results back.

Numpy only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def repeated_single_candidate_frames(
    log_probs: np.ndarray,
    token_min_logp: float,
    blank_id: int | None = None,
    blank_skip_logp: float | None = None,
) -> np.ndarray:
    """(T,) bool for (T, V) `log_probs`: frames beam search can skip without changing its result.

    pyctcdecode expands a frame only with labels whose log-prob >= token_min_logp (plus the argmax). When frame
    t-1 and frame t each have one such label and it is the same, frame t only adds the same score to every beam
    (a repeat or a blank run): rankings, pruning and texts are unchanged. Dropping those frames is exact.

    With `blank_skip_logp` (and `blank_id`), a frame whose blank log-prob is >= blank_skip_logp also counts as a
    blank-only frame, so a run of near-certain blanks shrinks to its first frame whatever else lies above
    token_min_logp there: approximate (the other labels' small share of those frames is lost), and the frames a
    posteriors' long pauses and gaps between letters hold are most of an utterance. The first frame of each run
    stays, so a blank still separates repeated letters.
    """
    single = (log_probs >= token_min_logp).sum(axis=1) <= 1
    best = log_probs.argmax(axis=1)
    if blank_skip_logp is not None:
        if blank_id is None:
            raise ValueError("blank_skip_logp needs the blank's id (blank_id)")
        near_certain = log_probs[:, blank_id] >= blank_skip_logp
        single = single | near_certain
        best = np.where(near_certain, blank_id, best)
    skip = np.zeros(len(log_probs), dtype=bool)
    skip[1:] = single[1:] & single[:-1] & (best[1:] == best[:-1])
    return skip


@dataclass(frozen=True)
class ShortenedFrames:
    """The (K, V) kept frames of (T, V) log-probs, and what maps search results back to the T original frames.

    kept_frames: (K,) original index of each kept frame; kept frame k stands for original frames
    kept_frames[k] .. run_end[k] - 1. skipped_score: the skipped frames' best log-probs summed, the score every
    beam gains over them.
    """

    log_probs: np.ndarray
    kept_frames: np.ndarray
    run_end: np.ndarray
    skipped_score: float

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original frames (start, end), end exclusive, of the kept-frame span start .. end - 1."""
        return int(self.kept_frames[start]), int(self.run_end[end - 1])


def skip_repeated_frames(
    log_probs: np.ndarray,
    token_min_logp: float,
    blank_id: int | None = None,
    blank_skip_logp: float | None = None,
) -> ShortenedFrames:
    """(T, V) log-probs without `repeated_single_candidate_frames` (T >= 1); see there for `blank_skip_logp`."""
    skip = repeated_single_candidate_frames(log_probs, token_min_logp, blank_id, blank_skip_logp)
    kept_frames = np.flatnonzero(~skip)
    return ShortenedFrames(
        log_probs=log_probs[kept_frames],
        kept_frames=kept_frames,
        run_end=np.append(kept_frames[1:], len(log_probs)),
        skipped_score=float(log_probs[skip].max(axis=1).sum()) if skip.any() else 0.0,
    )
