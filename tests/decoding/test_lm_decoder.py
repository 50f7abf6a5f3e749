"""LMDecoder: what the LM changes, equivalences with greedy/no-LM, frame skipping, parallel batches."""

from __future__ import annotations

import numpy as np
import pytest
from pyctcdecode import build_ctcdecoder

from hf_asr.modeling.ctc_labels import ctc_labels
from hf_asr.modeling.frame_skipping import repeated_single_candidate_frames, skip_repeated_frames
from hf_asr.modeling.lm_decoder import LMDecoder

from .synthetic import ambiguous, greedy, log_softmax, peaky_random, spell


@pytest.fixture(scope="module")
def decoder(labels, arpa_path, unigrams) -> LMDecoder:
    return LMDecoder(labels, arpa_path, unigrams, alpha=0.5, beta=1.0)


def test_labels_follow_tokenizer_ids(tokenizer, labels):
    vocab = tokenizer.get_vocab()
    assert labels[vocab["<pad>"]] == "" and labels[vocab["|"]] == " " and labels[vocab["<unk>"]] == "⁇"
    assert labels[vocab["c"]] == "c" and len(labels) == len(vocab)


def test_lm_picks_the_known_word_where_greedy_does_not(decoder, labels):
    log_probs = np.concatenate([spell("the ", labels), ambiguous("cat", "cst", labels)])
    assert greedy(log_probs, labels) == "the cst"
    assert LMDecoder(labels, None).decode(log_probs) == "the cst"  # beam search alone does not fix it
    assert decoder.decode(log_probs) == "the cat"


def test_beam_width_one_without_lm_is_greedy(labels):
    no_lm = LMDecoder(labels, None)
    for seed in range(5):
        log_probs = peaky_random(60, labels, seed)
        assert no_lm.decode(log_probs, beam_width=1) == greedy(log_probs, labels)


def test_zero_weights_and_unk_offset_equal_no_lm(labels, arpa_path, unigrams):
    neutral = LMDecoder(labels, arpa_path, unigrams, alpha=0.0, beta=0.0, unk_score_offset=0.0)
    no_lm = LMDecoder(labels, None)
    weighted = LMDecoder(labels, arpa_path, unigrams, alpha=2.0, beta=1.0)
    differs = 0
    for seed in range(6):
        log_probs = peaky_random(50, labels, seed, scale=2.0)
        expected = no_lm.decode_beams(log_probs, beam_width=16, prune_history=False)[0][0]
        assert neutral.decode_beams(log_probs, beam_width=16, prune_history=False)[0][0] == expected
        differs += weighted.decode_beams(log_probs, beam_width=16, prune_history=False)[0][0] != expected
    assert differs > 0  # the comparison can fail: a weighted LM does change these outputs


def test_frame_skipping_matches_plain_pyctcdecode(labels, arpa_path, unigrams, decoder):
    plain = build_ctcdecoder(labels, str(arpa_path), unigrams=unigrams, alpha=0.5, beta=1.0)
    checked_skips = 0
    for seed in range(4):
        parts = [spell("the cat sat on the mat", labels, frames_per_char=3, blanks=4, noise=1.5, seed=seed)]
        log_probs = np.concatenate(parts)
        checked_skips += int(repeated_single_candidate_frames(log_probs, -5.0).sum())
        ours = decoder.decode_beams(log_probs, beam_width=20)[0]
        theirs = plain.decode_beams(log_probs, beam_width=20, prune_history=True)[0]
        assert ours[0] == theirs[0]
        assert ours[2] == theirs[2]  # word frame spans, mapped back to the original frames
        assert ours[3] == pytest.approx(theirs[3], abs=1e-3) and ours[4] == pytest.approx(theirs[4], abs=1e-3)
    assert checked_skips > 50  # the inputs really had frames to skip


def test_word_offsets_point_at_the_spoken_frames(decoder, labels):
    # "the" occupies frames 0-8 (3 chars x (2 + 1 blank)), the space 9-11, "cat" 12-20.
    out = decoder.decode_batch([spell("the cat", labels)])
    assert out.text == ["the cat"]
    assert [(w["word"], w["start_offset"], w["end_offset"]) for w in out.word_offsets[0]] == [
        ("the", 0, 8),
        ("cat", 12, 20),
    ]


def test_parallel_batch_equals_serial_and_trims_padding(decoder, labels):
    utterances = [peaky_random(n, labels, seed) for seed, n in enumerate([30, 45, 12, 60, 25])]
    serial = [decoder.decode(x, beam_width=8) for x in utterances]
    assert decoder.decode_batch(utterances, num_processes=2, beam_width=8).text == serial
    padded = np.zeros((len(utterances), 60, len(labels)), dtype=np.float32)
    for i, x in enumerate(utterances):
        padded[i, : len(x)] = x
    lengths = [len(x) for x in utterances]
    assert decoder.decode_batch(padded, logit_lengths=lengths, num_processes=1, beam_width=8).text == serial


def test_raw_logits_and_log_probs_decode_alike(decoder, labels):
    log_probs = spell("the cat sat", labels, noise=1.0)
    assert decoder.decode(log_probs * 1.0 + 7.0) == decoder.decode(log_probs) == "the cat sat"


def test_empty_hotword_list_is_no_hotwords(decoder, labels):
    log_probs = np.concatenate([spell("the ", labels), ambiguous("mat", "hat", labels)])
    base = decoder.decode(log_probs)
    assert decoder.decode(log_probs, hotwords=[]) == base
    assert decoder.decode(log_probs, hotwords=["", "  "]) == base
    assert decoder.decode(log_probs, hotwords=["hat"], hotword_weight=20.0) != base  # hotwords do act


def test_zero_frames_give_empty_text(decoder, labels):
    assert decoder.decode(np.zeros((0, len(labels)), dtype=np.float32)) == ""


def test_set_params_changes_lm_weight(labels, arpa_path, unigrams):
    decoder = LMDecoder(labels, arpa_path, unigrams, alpha=0.5, beta=1.0)
    decoder.set_params(alpha=0.0, beta=0.0, beam_width=7)
    assert decoder.lm_params["alpha"] == 0.0 and decoder.search["beam_width"] == 7
    with pytest.raises(TypeError, match="beam_widht"):
        decoder.set_params(beam_widht=3)


def test_unexpected_special_tokens_are_refused():
    import json
    import tempfile
    from pathlib import Path

    from transformers import Wav2Vec2CTCTokenizer

    from hf_asr.data.vocab import build_vocab

    with tempfile.TemporaryDirectory() as tmp:
        vocab_file = Path(tmp) / "vocab.json"
        vocab_file.write_text(json.dumps(build_vocab(["ab"])))
        with_bos = Wav2Vec2CTCTokenizer(str(vocab_file))  # default bos/eos <s> </s> get added
    with pytest.raises(ValueError, match="<s>"):
        ctc_labels(with_bos)


def test_log_softmax_helper_is_normalised():
    x = log_softmax(np.random.default_rng(0).normal(size=(4, 6)))
    assert np.allclose(np.exp(x).sum(-1), 1.0, atol=1e-5)


def test_skipped_frames_map_back_to_the_original_frames():
    # Frames 1-2 repeat frame 0's single candidate (label 0) and frame 4 repeats frame 3's (label 1).
    log_probs = np.log(np.array([[0.99, 0.01]] * 3 + [[0.01, 0.99]] * 2 + [[0.5, 0.5]], dtype=np.float32))
    frames = skip_repeated_frames(log_probs, token_min_logp=-1.0)
    assert frames.kept_frames.tolist() == [0, 3, 5] and frames.log_probs.shape == (3, 2)
    assert frames.original_span(0, 2) == (0, 5) and frames.original_span(2, 3) == (5, 6)
    assert frames.skipped_score == pytest.approx(3 * np.log(0.99), rel=1e-5)


def test_blank_skip_shrinks_runs_of_near_certain_blanks_to_their_first_frame():
    # Label 0 is the blank. Frames 1-3: blank at 0.98 with label 1 at 0.02, above token_min_logp (-5): the exact rule
    # keeps them (two candidates), blank_skip_logp=log(0.95) drops all but the run's first.
    log_probs = np.log(np.array([[0.02, 0.98]] + [[0.98, 0.02]] * 3 + [[0.02, 0.98]], dtype=np.float32))
    exact = skip_repeated_frames(log_probs, token_min_logp=-5.0)
    assert exact.kept_frames.tolist() == [0, 1, 2, 3, 4]
    skipping = skip_repeated_frames(log_probs, token_min_logp=-5.0, blank_id=0, blank_skip_logp=np.log(0.95))
    assert skipping.kept_frames.tolist() == [0, 1, 4]
    assert skipping.original_span(1, 2) == (1, 4)
    assert skipping.skipped_score == pytest.approx(2 * np.log(0.98), rel=1e-5)
    # A blank below the threshold keeps its frame.
    assert skip_repeated_frames(log_probs, -5.0, 0, np.log(0.99)).kept_frames.tolist() == [0, 1, 2, 3, 4]


def test_blank_skip_is_checked_saved_and_loaded(labels, arpa_path, unigrams, tmp_path):
    with pytest.raises(ValueError, match=r"blank_skip_logp .*\[-0\.69, 0\]"):
        LMDecoder(labels, arpa_path, unigrams, blank_skip_logp=-2.0)
    with pytest.raises(TypeError, match="blank_skip_logp"):
        LMDecoder(labels, arpa_path, unigrams, blank_skip_logp="fast")
    decoder = LMDecoder(labels, arpa_path, unigrams, blank_skip_logp=-0.01)
    decoder.save_pretrained(tmp_path / "decoder")
    assert LMDecoder.from_pretrained(tmp_path / "decoder").search["blank_skip_logp"] == -0.01
    exact = LMDecoder(labels, arpa_path, unigrams)
    assert exact.search["blank_skip_logp"] is None  # exact by default
    exact.save_pretrained(tmp_path / "exact")
    assert LMDecoder.from_pretrained(tmp_path / "exact").search["blank_skip_logp"] is None
