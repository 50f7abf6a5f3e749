"""Bad decoding inputs get errors naming them: logit_lengths, non-finite logits on every greedy path, broken decoder
files; a model folder whose LM is gone warns instead of silently decoding greedily."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
import torch

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Processor
from hf_asr.decoding.evaluation import transcribe_logits
from hf_asr.decoding.tuning import greedy_wer
from hf_asr.modeling.ctc_labels import to_log_probs
from hf_asr.modeling.lm_decoder import LMDecoder
from hf_asr.modeling.lm_decoder_folder import (
    ALPHABET_FILE,
    LM_DIR,
    SEARCH_CONFIG_FILE,
    MissingLanguageModelWarning,
    find_saved_decoder,
)

from .synthetic import peaky_random, spell


@pytest.fixture(scope="module")
def decoder(labels, arpa_path, unigrams) -> LMDecoder:
    return LMDecoder(labels, arpa_path, unigrams, beam_width=8)


@pytest.fixture(scope="module")
def padded(labels):
    """(3, 30, V) padded log-probs and their true lengths."""
    utterances = [peaky_random(n, labels, seed) for seed, n in enumerate([30, 12, 25])]
    batch = np.zeros((3, 30, len(labels)), dtype=np.float32)
    for i, x in enumerate(utterances):
        batch[i, : len(x)] = x
    return batch, [len(x) for x in utterances]


@pytest.mark.parametrize("lengths", [[30, 12], [30, 12, 25, 25]])
def test_logit_lengths_count_must_match(decoder, padded, lengths):
    with pytest.raises(ValueError, match=f"got {len(lengths)} logit_lengths for 3 utterances"):
        decoder.decode_batch(padded[0], logit_lengths=lengths)


@pytest.mark.parametrize("index, length", [(1, -1), (2, 31), (0, 2.5), (1, "12")])
def test_a_bad_logit_length_names_the_utterance(decoder, padded, index, length):
    lengths = list(padded[1])
    lengths[index] = length
    with pytest.raises(ValueError, match=f"logit_lengths\\[{index}\\] is {length!r}.*30 frames of utterance {index}"):
        decoder.decode_batch(padded[0], logit_lengths=lengths)


def test_logit_lengths_as_tensors_and_arrays(decoder, padded):
    batch, lengths = padded
    expected = decoder.decode_batch(batch, logit_lengths=lengths).text
    assert decoder.decode_batch(torch.from_numpy(batch), logit_lengths=torch.tensor(lengths)).text == expected
    assert decoder.decode_batch(batch, logit_lengths=np.array(lengths)).text == expected
    assert len(expected) == 3


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_logits_name_the_utterance_on_every_path(decoder, tokenizer, labels, bad):
    batch = [spell("the cat", labels), spell("the mat", labels)]
    batch[1][4, 2] = bad
    message = "utterance 1: logits hold NaN or inf"
    with pytest.raises(ValueError, match=message):
        decoder.decode_batch(batch)
    with pytest.raises(ValueError, match=message):
        transcribe_logits(batch, ["the cat", "the mat"], tokenizer)  # the greedy half of evaluate_ctc
    with pytest.raises(ValueError, match=message):
        greedy_wer(batch, ["the cat", "the mat"], labels)
    processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer)
    with pytest.raises(ValueError, match=message):
        processor.batch_decode(np.stack(batch))
    with pytest.raises(ValueError, match="utterance 0: logits hold NaN or inf"):
        processor.decode(batch[1])


def test_processor_decodes_float_logits_greedily_without_a_decoder(tokenizer, labels, padded):
    processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer)
    logits = np.stack([spell("the cat", labels), spell("the mat", labels)])
    assert processor.batch_decode(logits) == ["the cat", "the mat"]
    assert processor.decode(torch.from_numpy(logits[0])) == "the cat"
    batch, lengths = padded
    assert processor.batch_decode(batch, logit_lengths=lengths) == [
        tokenizer.decode(batch[i, :n].argmax(-1)) for i, n in enumerate(lengths)
    ]


@pytest.mark.parametrize(
    "logits, error, message",
    [
        (np.array([["a"] * 3]), TypeError, "utterance 0: logits must be real numbers, got dtype <U1"),
        (np.ones((4, 3), dtype=np.complex64), TypeError, "logits must be real numbers, got dtype complex64"),
        ([[0.0, 1.0], [0.0]], ValueError, r"utterance 0: logits must be a \(frames, 3\) array"),
    ],
)
def test_logits_that_are_not_real_numbers_are_named(logits, error, message):
    with pytest.raises(error, match=message):
        to_log_probs(logits, 3)


def test_huge_finite_logits_decode(decoder, labels):
    log_probs = spell("the cat", labels).astype(np.float64) * 1e300  # beyond float32, still finite
    assert decoder.decode(log_probs) == "the cat"


@pytest.fixture()
def saved(decoder, tmp_path):
    decoder.save_pretrained(tmp_path)
    return tmp_path


def test_corrupt_binary_lm_names_the_file(saved, labels, unigrams):
    (saved / LM_DIR / "lm.arpa").unlink()
    binary = saved / LM_DIR / "lm.bin"
    binary.write_bytes(np.random.default_rng(0).bytes(3000))  # kenlm itself says UnicodeDecodeError
    with pytest.raises(ValueError, match=f"cannot load KenLM model {binary}: corrupt or not a KenLM file"):
        LMDecoder.from_pretrained(saved)
    with pytest.raises(ValueError, match=f"cannot load KenLM model {binary}"):
        LMDecoder(labels, binary, unigrams)
    binary.write_bytes(b"")
    with pytest.raises(ValueError, match="it is empty"):
        LMDecoder.from_pretrained(saved)


@pytest.mark.parametrize("name", [f"{LM_DIR}/attrs.json", SEARCH_CONFIG_FILE, ALPHABET_FILE])
def test_invalid_json_names_the_file(saved, name):
    (saved / name).write_text('{"alpha": 0.5,')
    with pytest.raises(ValueError, match=f"LM decoder file {saved / name} is not valid JSON"):
        LMDecoder.from_pretrained(saved)


def test_bad_alphabet_labels_name_the_file(saved):
    (saved / ALPHABET_FILE).write_text('{"labels": ["a", 3], "is_bpe": false}')
    with pytest.raises(ValueError, match=rf"{saved / ALPHABET_FILE}: labels\[1\] must be a str, got int 3"):
        LMDecoder.from_pretrained(saved)


def test_a_model_folder_whose_lm_is_gone_warns(decoder, tokenizer, tmp_path):
    LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer, decoder).save_pretrained(tmp_path)
    assert isinstance(LogMelWav2Vec2Processor.from_pretrained(tmp_path).decoder, LMDecoder)
    shutil.rmtree(tmp_path / LM_DIR)
    with pytest.warns(MissingLanguageModelWarning, match=f"model folder {tmp_path} was saved with an LM decoder"):
        processor = LogMelWav2Vec2Processor.from_pretrained(tmp_path)
    assert processor.decoder is None
    with pytest.warns(MissingLanguageModelWarning, match=f"{LM_DIR}/ folder .* is missing"):
        assert find_saved_decoder(tmp_path) is None


def test_an_incomplete_language_model_folder_is_an_error(decoder, tokenizer, tmp_path):
    LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer, decoder).save_pretrained(tmp_path)
    (tmp_path / LM_DIR / "lm.arpa").unlink()
    with pytest.raises(FileNotFoundError, match=f"expected one KenLM file .* in {tmp_path / LM_DIR}"):
        LogMelWav2Vec2Processor.from_pretrained(tmp_path)


def test_a_folder_saved_without_lm_does_not_warn(tokenizer, tmp_path):
    LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer).save_pretrained(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingLanguageModelWarning)
        assert LogMelWav2Vec2Processor.from_pretrained(tmp_path).decoder is None


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"batch_size": 0}, ValueError, "batch_size must be a whole number >= 1, got 0"),
        ({"chunk_length_s": float("nan")}, ValueError, "chunk_length_s must be a number >= 0, got nan"),
        ({"chunk_length_s": -2}, ValueError, "chunk_length_s must be a number >= 0, got -2"),
        ({"backend": "kaldi"}, ValueError, "unknown LM decoding backend 'kaldi'"),
    ],
)
def test_transcribe_checks_its_options_first(tmp_path, options, error, message):
    from hf_asr.decoding.transcribe import transcribe

    with pytest.raises(error, match=message):
        transcribe([tmp_path / "a.wav"], tmp_path, **options)


def test_compute_logits_checks_the_batch_size():
    from hf_asr.decoding.inference import compute_logits

    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1, got -4"):
        compute_logits(None, None, [np.zeros(1600, dtype=np.float32)], 16000, batch_size=-4)
