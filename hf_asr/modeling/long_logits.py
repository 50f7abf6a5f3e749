"""Long utterances for CTC beam search: cut (T, V) log-probs at pauses into bounded segments, and join the
segments' best beams back into one result over the original frames.

pyctcdecode's beams carry their whole text and word-frame list, and it re-splits and re-hashes that text for every
beam at every frame, so its cost per frame grows with the length decoded so far (and its LM-score cache with it):
10 minutes cost several times ten 1-minute pieces. Segments of bounded length keep the cost linear.

Numpy only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PAUSE_FRAMES = 25  # a blank run this long (0.5 s of 20 ms frames) is a pause between phrases: always cut there


def segment_bounds(log_probs: np.ndarray, blank_id: int, max_segment_frames: int | None) -> list[tuple[int, int]]:
    """Consecutive (start, end) frame ranges, end exclusive, covering (T, V) `log_probs`, each at most
    `max_segment_frames` long; [(0, T)] when T fits (or `max_segment_frames` is None).

    Longer logits are cut in the middle of every pause (a run of at least `PAUSE_FRAMES` blank frames, blank the
    most likely label): a CTC model trained on single utterances spells no word boundary there, so one search
    would glue the words on either side together. A piece still too long is cut in the longest blank run that
    reaches into the second half of its window (see `_cut_to_length`).
    """
    num_frames = len(log_probs)
    if max_segment_frames is None or num_frames <= max_segment_frames:
        return [(0, num_frames)]
    run_starts, run_ends = _runs(log_probs.argmax(axis=1) == blank_id)
    inner_pauses = (run_ends - run_starts >= PAUSE_FRAMES) & (run_starts > 0) & (run_ends < num_frames)
    edges = [0, *((run_starts[inner_pauses] + run_ends[inner_pauses]) // 2).tolist(), num_frames]
    blank = log_probs[:, blank_id]
    bounds = []
    for start, end in zip(edges, edges[1:]):
        bounds += _cut_to_length(blank, run_starts, run_ends, start, end, max_segment_frames)
    return bounds


def _cut_to_length(
    blank: np.ndarray, run_starts: np.ndarray, run_ends: np.ndarray, start: int, end: int, max_frames: int
) -> list[tuple[int, int]]:
    """Frames start..end - 1 as pieces of at most `max_frames`: each cut lies in the longest blank run (runs:
    `run_starts`/`run_ends`) that reaches into the second half of the window, at the run's middle when it lies
    inside, so pieces are at least half the maximum (but the last). A window without a blank frame is cut at its
    most certain blank (`blank`: (T,) blank log-probs)."""
    bounds = []
    while end - start > max_frames:
        low, high = start + max(1, (max_frames + 1) // 2), start + max_frames  # cut in [low, high]
        overlapping = np.flatnonzero((run_starts <= high) & (run_ends > low))
        if len(overlapping):
            run = overlapping[np.argmax(run_ends[overlapping] - run_starts[overlapping])]
            cut = int(np.clip((run_starts[run] + run_ends[run]) // 2, low, high))
        else:
            cut = low + int(np.argmax(blank[low : high + 1]))
        bounds.append((start, cut))
        start = cut
    bounds.append((start, end))
    return bounds


def join_segment_beams(beams: Sequence[tuple], starts: Sequence[int]) -> tuple:
    """One beam in `LMDecoder.decode_beams` form, (text, lm_state, [(word, (start, end))], logit_score, lm_score),
    from each segment's best beam and the segment's first frame: texts joined by single spaces, word frames shifted
    back to the original frames, scores summed, the last segment's LM state."""
    text = " ".join(beam[0] for beam in beams if beam[0])
    words = [(word, (s + offset, e + offset)) for beam, offset in zip(beams, starts) for word, (s, e) in beam[2]]
    return (text, beams[-1][1], words, sum(beam[3] for beam in beams), sum(beam[4] for beam in beams))


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends), end exclusive, of the runs of True in the (T,) bool `mask`."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
