"""Non-string transcripts and characters outside the vocabulary: named errors, or a warning naming the characters."""

import warnings

import datasets
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Processor
from hf_asr.data.features import prepare_dataset
from hf_asr.data.text import (
    TranscriptTypeError,
    UnknownCharactersError,
    UnknownCharactersWarning,
    normalize_transcript,
    require_transcript,
)
from hf_asr.data.vocab import build_tokenizer, build_vocab


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer(["abc def"])


def _corpus(texts: list) -> datasets.Dataset:
    rng = np.random.default_rng(0)
    audio = [(0.1 * rng.standard_normal(1600)).astype(np.float32) for _ in texts]
    return datasets.Dataset.from_dict({"audio": audio, "text": texts})


@pytest.mark.parametrize(
    ("value", "described"),
    [(None, r"None \(an empty cell\?\)"), (3.5, "3.5 of type float"), (["ab"], r"\['ab'\] of type list")],
)
def test_require_transcript_names_sample_column_and_value(value, described):
    with pytest.raises(TranscriptTypeError, match=rf"transcript of sample 17 in column 'text' is {described}"):
        require_transcript(value, 17, "text")


def test_normalize_transcript_rejects_none_by_name():
    with pytest.raises(TypeError, match=r"transcript is None \(an empty cell\?\)"):
        normalize_transcript(None)
    with pytest.raises(TypeError, match="sample 4 in column 'sentence'"):
        normalize_transcript(None, 4, "sentence")


def test_build_vocab_names_the_none_sample():
    with pytest.raises(TranscriptTypeError, match=r"transcript of sample 1 is None"):
        build_vocab(["ab", None, "cd"])


@pytest.mark.parametrize("precompute", [True, False])
def test_prepare_dataset_names_the_empty_cell(tokenizer, precompute):
    with pytest.raises(TranscriptTypeError, match=r"sample 2 in column 'text' is None"):
        prepare_dataset(
            _corpus(["abc", "def", None]), LogMelFeatureExtractor(), tokenizer, precompute_features=precompute
        )


def test_prepare_dataset_warns_about_unknown_characters_with_counts(tokenizer):
    corpus = _corpus(["abc", "abz", "zzq"])
    with pytest.warns(UnknownCharactersWarning, match=r"(?s)in column 'text'.*'z' .*3 time\(s\), first in sample 1"):
        prepared = prepare_dataset(corpus, LogMelFeatureExtractor(), tokenizer)
    assert prepared["labels"][1][-1] == tokenizer.unk_token_id  # still tokenized, as before
    with pytest.raises(UnknownCharactersError, match="'q'"):
        prepare_dataset(corpus, LogMelFeatureExtractor(), tokenizer, unknown_characters="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownCharactersWarning)
        prepare_dataset(corpus, LogMelFeatureExtractor(), tokenizer, unknown_characters="ignore")


def test_prepare_dataset_is_quiet_for_known_characters(tokenizer):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownCharactersWarning)
        prepare_dataset(_corpus(["Abc, DEF!"]), LogMelFeatureExtractor(), tokenizer)  # normalised first


def test_processor_text_warns_or_raises_on_unknown_characters(tokenizer):
    processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer)
    with pytest.warns(UnknownCharactersWarning, match=r"(?s)'A' \(LATIN CAPITAL LETTER A\): 2 time\(s\).*'1'"):
        labels = processor(text=["Abc", "A1"], normalize_text=False)
    assert labels[0][0] == tokenizer.unk_token_id
    assert processor(text="ABC!") == tokenizer("abc").input_ids  # normalised first, by default
    with pytest.raises(UnknownCharactersError, match="'é'"):
        processor(text="café", unknown_characters="raise")
    with pytest.raises(ValueError, match="unknown_characters='loud'"):
        processor(text="abc", unknown_characters="loud")
    with pytest.raises(TranscriptTypeError, match="sample 1 is None"):
        processor(text=["abc", None])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownCharactersWarning)
        assert processor(text="abc def") == tokenizer("abc def").input_ids


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(
        st.one_of(st.text(), st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.text(max_size=3))),
        max_size=5,
    )
)
def test_any_transcript_list_gives_a_vocabulary_or_a_named_error(texts):
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        with pytest.raises(TranscriptTypeError, match=rf"transcript of sample {bad} is "):
            build_vocab([normalize_transcript(t) if isinstance(t, str) else t for t in texts])
        with pytest.raises(TranscriptTypeError, match=rf"transcript of sample {bad} in column 'text' is "):
            [normalize_transcript(t, i, "text") for i, t in enumerate(texts)]
        return
    normalized = [normalize_transcript(t) for t in texts]
    assert all(isinstance(t, str) and "|" not in t for t in normalized)
    if any(normalized):
        vocab = build_vocab(normalized)
        assert set("".join(normalized)) - {" "} <= set(vocab)
