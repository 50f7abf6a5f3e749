"""Long utterances: cutting logits at pauses, decoding the segments and joining them back (`long_logits.py`)."""

from __future__ import annotations

import numpy as np
import pytest

from hf_asr.modeling.lm_decoder import LMDecoder
from hf_asr.modeling.long_logits import PAUSE_FRAMES, join_segment_beams, segment_bounds

from .synthetic import peaky_random, spell

SENTENCES = ["the cat sat on the mat ", "a cat sat on a mat ", "the cat sat "]


@pytest.fixture(scope="module")
def decoder(labels, arpa_path, unigrams) -> LMDecoder:
    return LMDecoder(labels, arpa_path, unigrams, alpha=0.5, beta=1.0, beam_width=16)


def speech(
    labels: list[str], repeats: int, seed: int = 0, gap: int = PAUSE_FRAMES + 5, sentences: list[str] = SENTENCES
) -> np.ndarray:
    """(T, V) log-probs of `sentences` spoken `repeats` times, slightly noisy, `gap` certain blanks after each."""
    rows = []
    for index in range(repeats):
        sentence = sentences[index % len(sentences)]
        rows.append(spell(sentence, labels, frames_per_char=2, blanks=2, noise=1.0, seed=seed + index))
        pause = np.full((gap, len(labels)), -12.0, dtype=np.float32)
        pause[:, labels.index("")] = 0.0
        rows.append(pause)
    return np.concatenate(rows)


def pause_frames(log_probs: np.ndarray, labels: list[str]) -> np.ndarray:
    """(T,) bool: the certain blanks `speech` puts between sentences."""
    return (log_probs[:, labels.index("")] == 0.0) & (log_probs.max(axis=1) == 0.0)


def check_cover(bounds: list[tuple[int, int]], num_frames: int, max_frames: int) -> None:
    assert bounds[0][0] == 0 and bounds[-1][1] == num_frames
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))  # contiguous
    assert all(0 < end - start <= max_frames for start, end in bounds)


def test_long_logits_are_cut_in_every_pause(labels):
    log_probs = speech(labels, 12)
    bounds = segment_bounds(log_probs, labels.index(""), 300)
    check_cover(bounds, len(log_probs), 300)
    assert len(bounds) == 12  # one per sentence: the pause after the last one ends the logits, no cut there
    is_pause = pause_frames(log_probs, labels)
    assert all(is_pause[cut - 10 : cut + 10].all() for _, cut in bounds[:-1])  # in the middle, not at an edge


def test_pieces_too_long_are_cut_in_their_longest_blank_run(labels):
    log_probs = speech(labels, 12, gap=PAUSE_FRAMES // 2)  # gaps too short to count as pauses
    bounds = segment_bounds(log_probs, labels.index(""), 300)
    check_cover(bounds, len(log_probs), 300)
    assert len(bounds) > 3 and all(150 <= end - start for start, end in bounds[:-1])  # at least half the maximum
    is_pause = pause_frames(log_probs, labels)
    assert all(is_pause[cut - 3 : cut + 3].all() for _, cut in bounds[:-1])  # within the sentence gaps


def test_short_logits_and_no_limit_give_one_segment(labels):
    log_probs = speech(labels, 3)
    assert segment_bounds(log_probs, 0, len(log_probs)) == [(0, len(log_probs))]
    assert segment_bounds(log_probs, 0, None) == [(0, len(log_probs))]


def test_a_window_without_blank_is_cut_at_its_most_certain_blank(labels):
    rng = np.random.default_rng(0)
    log_probs = np.full((100, len(labels)), -20.0, dtype=np.float32)
    log_probs[np.arange(100), rng.integers(1, len(labels), 100)] = 0.0  # a letter wins every frame
    log_probs[:, 0] = rng.uniform(-9.0, -3.0, 100)
    log_probs[70, 0] = -1.0
    assert segment_bounds(log_probs, 0, 80) == [(0, 70), (70, 100)]


def test_segmented_decoding_equals_whole_decoding_with_original_frames(decoder, labels):
    log_probs = speech(labels, 15)  # ~1,500 frames, cut into 15 segments below
    assert len(segment_bounds(log_probs, 0, 300)) == 15
    whole = decoder.decode_beams(log_probs, max_segment_frames=None)[0]
    joined = decoder.decode_beams(log_probs, max_segment_frames=300)
    assert len(joined) == 1
    text, _, word_frames, logit_score, _ = joined[0]
    assert text == whole[0] and text.count("cat") == 15
    assert word_frames == whole[2]  # word frames mapped back to the original frames, exactly
    starts = [start for _, (start, _) in word_frames]
    assert starts == sorted(starts) and all(0 <= s < e <= len(log_probs) for _, (s, e) in word_frames)
    assert logit_score == pytest.approx(whole[3], abs=1e-3)  # the same path, scored piece by piece


def test_pauses_separate_words_that_one_search_glues_together(decoder, labels):
    # A CTC model trained on single utterances spells no word boundary at the end of one.
    sentences = [sentence.strip() for sentence in SENTENCES]
    log_probs = speech(labels, 6, sentences=sentences)
    spoken = " ".join(sentences[index % 3] for index in range(6))
    assert decoder.decode(log_probs, max_segment_frames=200) == spoken
    assert decoder.decode(log_probs, max_segment_frames=None) != spoken  # "mata cat", "matthe cat"


def test_short_utterances_decode_exactly_as_before(decoder, labels):
    for seed in range(3):
        log_probs = peaky_random(400, labels, seed, scale=2.0)
        assert decoder.decode_beams(log_probs) == decoder.decode_beams(log_probs, max_segment_frames=None)
        assert decoder.decode_beams(log_probs, max_segment_frames=400) == decoder.decode_beams(
            log_probs, max_segment_frames=None
        )


def test_segments_decode_alike_in_forked_workers_and_report_progress(decoder, labels):
    log_probs = speech(labels, 10)
    calls = []
    serial = decoder.decode_beams(log_probs, max_segment_frames=250, progress=lambda *a: calls.append(a))
    assert decoder.decode_beams(log_probs, max_segment_frames=250, num_processes=2) == serial
    num_segments = len(segment_bounds(log_probs, 0, 250))
    assert len(calls) == num_segments + 1 and calls[0] == (0, len(log_probs)) and calls[-1][0] == len(log_probs)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_join_skips_empty_segments_and_shifts_word_frames():
    beams = [("a cat", None, [("a", (0, 2)), ("cat", (3, 6))], -1.0, -2.0), ("", None, [], -0.5, -0.5)]
    beams.append(("sat", "state", [("sat", (1, 4))], -1.5, -3.0))
    assert join_segment_beams(beams, [0, 10, 20]) == (
        "a cat sat",
        "state",
        [("a", (0, 2)), ("cat", (3, 6)), ("sat", (21, 24))],
        -3.0,
        -5.5,
    )


@pytest.mark.parametrize(
    ("value", "error"), [(0, ValueError), (-5, ValueError), (float("nan"), TypeError), ("100", TypeError)]
)
def test_bad_max_segment_frames_is_named(decoder, labels, value, error):
    message = "max_segment_frames must be None or an integer >= 1, got "
    with pytest.raises(error, match=message):
        LMDecoder(labels, max_segment_frames=value)
    with pytest.raises(error, match=message):
        decoder.decode_beams(peaky_random(10, labels, 0), max_segment_frames=value)
    with pytest.raises(error, match=message):
        decoder.set_params(max_segment_frames=value)
    assert decoder.search["max_segment_frames"] == 1500  # a refused value changes nothing
