"""The batched beam search with the n-gram LM in tensors: its LM scores equal KenLM's, its results pyctcdecode's
(without prune_history), a batch decodes like its utterances alone, and the saved folder carries the tables."""

from __future__ import annotations

import json

import kenlm
import numpy as np
import pytest
import torch
from pyctcdecode import BeamSearchDecoderCTC

from hf_asr.decoding.lm_building import build_lm, read_unigrams
from hf_asr.modeling import batched_beam_search
from hf_asr.modeling.frame_skipping import skip_repeated_frames
from hf_asr.modeling.lm_decoder import LMDecoder
from hf_asr.modeling.ngram_tables import NgramTables, read_arpa
from hf_asr.modeling.tensor_lm import TensorNgramLM

from .synthetic import spell

WORDS = "the cat sat on a mat dog ran far away big small red blue house tree in of".split()


@pytest.fixture(scope="module")
def lm_files(tmp_path_factory):
    rng = np.random.default_rng(0)
    lines = [" ".join(rng.choice(WORDS, rng.integers(2, 9))) for _ in range(1500)]
    return build_lm(lines, tmp_path_factory.mktemp("lm"), order=3, memory="64M", keep_arpa=True)


def noisy_utterances(labels: list[str], count: int, seed: int = 0) -> list[np.ndarray]:
    """Log-probs of random sentences (some with a word the LM lacks), with enough noise for real search. The last
    frames are clean blanks, so that no beam ends with a space (pyctcdecode's score of those depends on the order
    of its beams, see batched_beam_search.py)."""
    rng = np.random.default_rng(seed)
    vocabulary = WORDS + ["zebra", "cot"]
    texts = [" ".join(rng.choice(vocabulary, rng.integers(1, 7))) for _ in range(count)]
    blank = np.full((3, len(labels)), -30.0, dtype=np.float32)
    blank[:, labels.index("")] = 0.0
    return [
        np.concatenate([spell(text, labels, noise=2.2, margin=6.0, seed=seed + i)[:-1], blank])
        for i, text in enumerate(texts)
    ]


def test_tensor_lm_scores_equal_kenlm_with_backoff_and_unknown_words(lm_files, tmp_path):
    lines = [" ".join(WORDS[i % 7 : i % 7 + 5]) for i in range(300)]
    pruned = build_lm(lines, tmp_path / "pruned", order=4, memory="64M", prune=[0, 0, 1], keep_arpa=True)
    rng = np.random.default_rng(1)
    for arpa in (lm_files.arpa, pruned.arpa):
        lm, reference = TensorNgramLM(read_arpa(arpa)), kenlm.Model(str(arpa))
        for _ in range(200):
            words = list(rng.choice(WORDS + ["zebra"], rng.integers(1, 10)))
            for boundary in (True, False):
                expected = reference.score(" ".join(words), bos=boundary, eos=boundary)
                assert lm.score_words(words, boundary) == pytest.approx(expected, abs=1e-4), words


def test_build_lm_writes_tables_that_load_back(lm_files):
    tables = NgramTables.load(lm_files.ngram_tables)
    fresh = read_arpa(lm_files.arpa)
    assert tables.vocabulary == fresh.vocabulary and tables.order == 3
    np.testing.assert_array_equal(tables.keys, fresh.keys)
    np.testing.assert_array_equal(tables.log10_prob, fresh.log10_prob)


@pytest.mark.parametrize("beam_width", [4, 16])
def test_batched_search_gives_pyctcdecode_results(lm_files, labels, beam_width, monkeypatch):
    # every expansion in the merge pool: the search is exact (the default pool is measured by bench_decode.py)
    monkeypatch.setattr(batched_beam_search, "MERGE_POOL_PER_BEAM", 10_000)
    unigrams = read_unigrams(lm_files.unigrams)
    decoder = LMDecoder(
        labels,
        lm_files.binary,
        unigrams,
        alpha=0.8,
        beta=1.5,
        ngram_tables=lm_files.ngram_tables,
        beam_width=beam_width,
    )
    logits = noisy_utterances(labels, 24)
    reference = decoder.decode_batch(logits, prune_history=False)
    batched = decoder.decode_batch(logits, beam_search="batched")
    assert sum(a != b for a, b in zip(reference.text, [decoder.decode(x, beam_width=1) for x in logits])) > 0
    assert batched.text == reference.text
    np.testing.assert_allclose(batched.lm_score, reference.lm_score, atol=1e-3)
    np.testing.assert_allclose(batched.logit_score, reference.logit_score, atol=1e-3)
    for i in range(len(logits)):
        mine, pyctcdecode = batched.word_offsets[i], reference.word_offsets[i]
        # the same words at nearly the same frames (two alignments of one text: each is some merged beam's)
        assert [w["word"] for w in mine] == [w["word"] for w in pyctcdecode]
        frames = [f for w in mine for f in (w["start_offset"], w["end_offset"])]
        assert frames == sorted(frames) and all(w["start_offset"] < w["end_offset"] for w in mine)
        for a, b in zip(mine, pyctcdecode):
            assert abs(a["start_offset"] - b["start_offset"]) <= 3 and abs(a["end_offset"] - b["end_offset"]) <= 3


def test_default_merge_pool_keeps_pyctcdecode_texts(lm_files, labels, monkeypatch):
    unigrams = read_unigrams(lm_files.unigrams)
    decoder = LMDecoder(labels, lm_files.binary, unigrams, alpha=0.8, beta=1.5, ngram_tables=lm_files.ngram_tables)
    logits = noisy_utterances(labels, 24)
    reference = decoder.decode_batch(logits, prune_history=False, beam_width=16)
    assert decoder.decode_batch(logits, beam_search="batched", beam_width=16).text == reference.text
    # a pool as narrow as the beam merges too little: some total score moves (the pool is what the search uses)
    monkeypatch.setattr(batched_beam_search, "MERGE_POOL_PER_BEAM", 1)
    monkeypatch.setattr(batched_beam_search, "MIN_MERGE_POOL", 1)
    narrow = decoder.decode_batch(logits, beam_search="batched", beam_width=16)
    assert np.abs(np.array(narrow.lm_score) - np.array(reference.lm_score)).max() > 1e-3


def test_a_batch_decodes_like_its_utterances_alone(lm_files, labels):
    decoder = LMDecoder(
        labels, lm_files.binary, read_unigrams(lm_files.unigrams), ngram_tables=lm_files.ngram_tables, beam_width=8
    )
    logits = noisy_utterances(labels, 20, seed=5)  # lengths differ: shorter ones are padded in their group
    together = decoder.decode_batch(logits, beam_search="batched")
    alone = [decoder.decode_beams(x, beam_search="batched")[0] for x in logits]
    assert together.text == [beam[0] for beam in alone]
    np.testing.assert_allclose(together.lm_score, [beam[4] for beam in alone], atol=1e-4)
    forked = decoder.decode_batch(logits, beam_search="batched", num_processes=2)
    assert forked.text == together.text


def test_cpu_decoding_leaves_the_callers_thread_count(lm_files, labels):
    decoder = LMDecoder(labels, lm_files.binary, read_unigrams(lm_files.unigrams), ngram_tables=lm_files.ngram_tables)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        decoder.decode_batch(noisy_utterances(labels, 3, seed=1), beam_search="batched")  # runs on one thread
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)


def test_changed_lm_weights_reach_the_batched_search(lm_files, labels):
    unigrams, tables = read_unigrams(lm_files.unigrams), lm_files.ngram_tables
    decoder = LMDecoder(labels, lm_files.binary, unigrams, ngram_tables=tables, beam_width=8, beam_search="batched")
    logits = noisy_utterances(labels, 12, seed=2)
    before = decoder.decode_batch(logits)
    decoder.set_params(alpha=3.0, beta=-1.0)
    fresh = LMDecoder(labels, lm_files.binary, unigrams, ngram_tables=tables, beam_width=8, alpha=3.0, beta=-1.0)
    after = decoder.decode_batch(logits)
    assert after.text == fresh.decode_batch(logits, beam_search="batched").text
    assert after.lm_score != before.lm_score


def test_batched_search_without_lm_equals_pyctcdecode_beam_search(labels):
    decoder = LMDecoder(labels, None, beam_width=6)
    logits = noisy_utterances(labels, 12, seed=9)
    assert (
        decoder.decode_batch(logits, beam_search="batched").text
        == decoder.decode_batch(logits, prune_history=False).text
    )


def test_long_utterances_are_cut_into_segments_decoded_together(lm_files, labels):
    decoder = LMDecoder(
        labels, lm_files.binary, read_unigrams(lm_files.unigrams), ngram_tables=lm_files.ngram_tables, beam_width=8
    )
    long = np.concatenate(noisy_utterances(labels, 6, seed=3))
    for max_segment_frames in (None, 40):
        expected = decoder.decode(long, max_segment_frames=max_segment_frames, prune_history=False)
        assert decoder.decode(long, max_segment_frames=max_segment_frames, beam_search="batched") == expected


def test_saved_folder_carries_the_tables_and_pyctcdecode_still_reads_it(lm_files, labels, tmp_path):
    decoder = LMDecoder(labels, lm_files.binary, read_unigrams(lm_files.unigrams), ngram_tables=lm_files.ngram_tables)
    decoder.set_params(beam_search="batched")
    decoder.save_pretrained(tmp_path / "folder")
    assert (tmp_path / "folder" / "ngram_tables.npz").is_file()
    assert json.loads((tmp_path / "folder" / "lm_decoder_config.json").read_text())["beam_search"] == "batched"
    BeamSearchDecoderCTC.load_from_dir(str(tmp_path / "folder"))  # its language_model/ still has its 3 files
    loaded = LMDecoder.from_pretrained(tmp_path / "folder")
    logits = noisy_utterances(labels, 4)
    assert loaded.decode_batch(logits).text == decoder.decode_batch(logits).text
    # An LM saved without tables over the folder removes the old ones: they would not fit the new LM.
    LMDecoder(labels, lm_files.binary, read_unigrams(lm_files.unigrams)).save_pretrained(tmp_path / "folder")
    assert not (tmp_path / "folder" / "ngram_tables.npz").exists()


def test_batched_search_errors_name_the_problem(lm_files, labels, tmp_path):
    without_tables = LMDecoder(labels, lm_files.binary, read_unigrams(lm_files.unigrams))
    with pytest.raises(ValueError, match="ngram_tables.npz.*build-lm"):
        without_tables.decode(noisy_utterances(labels, 1)[0], beam_search="batched")
    with_tables = LMDecoder(
        labels, lm_files.binary, read_unigrams(lm_files.unigrams), ngram_tables=lm_files.ngram_tables
    )
    with pytest.raises(ValueError, match="hotwords need beam_search='pyctcdecode'"):
        with_tables.decode(noisy_utterances(labels, 1)[0], beam_search="batched", hotwords=["cat"])
    with pytest.raises(ValueError, match="beam_search must be one of"):
        LMDecoder(labels, None, beam_search="fast")
    damaged = tmp_path / "ngram_tables.npz"
    damaged.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=str(damaged)):
        NgramTables.load(damaged)
    arpa = tmp_path / "bad.arpa"
    arpa.write_text("\\data\\\nngram 1=1\n\n\\1-grams:\n-1.0\n\\end\\\n")
    with pytest.raises(ValueError, match="bad.arpa, line 5"):
        read_arpa(arpa)


@pytest.mark.parametrize("beam_search", ["pyctcdecode", "batched"])
def test_blank_skip_decodes_spelled_text_with_offsets_in_original_frames(labels, lm_files, beam_search):
    unigrams = read_unigrams(lm_files.unigrams)
    decoder = LMDecoder(labels, lm_files.binary, unigrams, ngram_tables=lm_files.ngram_tables, beam_search=beam_search)
    # Long blank runs (10 frames between letters) with some noise: most frames are near-certain blanks.
    log_probs = spell("the cat sat", labels, frames_per_char=2, blanks=10, noise=1.0, seed=1)
    blank = labels.index("")
    kept = skip_repeated_frames(log_probs, -5.0, blank, -0.05).kept_frames
    assert len(kept) < 0.5 * len(log_probs)  # the option really drops most frames here
    exact = decoder.decode_beams(log_probs)[0]
    skipping = decoder.decode_beams(log_probs, blank_skip_logp=-0.05)[0]
    assert skipping[0] == exact[0] == "the cat sat"
    assert skipping[2] == exact[2]  # word spans in the original frames
