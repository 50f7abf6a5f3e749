"""Bad arguments to the data helpers: our own errors naming the argument, never a dependency's."""

import datasets
import numpy as np
import pytest

from hf_asr import LogMelFeatureExtractor
from hf_asr.data.features import prepare_dataset
from hf_asr.data.loading import load_corpus
from hf_asr.data.vocab import build_tokenizer, tokenizer_from_vocab

SPECIALS = {"<pad>": 0, "<unk>": 1, "|": 2}


@pytest.fixture(scope="module")
def corpus():
    return datasets.Dataset.from_dict(
        {"audio": [np.zeros(1600, np.float32), np.zeros(0, np.float32)], "text": ["a"] * 2}
    )


@pytest.mark.parametrize(
    ("vocab", "error", "named"),
    [
        (["a"], TypeError, "vocab must be a dict"),
        ({**SPECIALS, "a": "3"}, TypeError, "vocab entry 'a': '3'"),
        ({**SPECIALS, "a": 2}, ValueError, r"the same id\(s\) \[2\]"),
    ],
)
def test_tokenizer_from_vocab_names_the_bad_entry(vocab, error, named):
    with pytest.raises(error, match=named):
        tokenizer_from_vocab(vocab)


@pytest.mark.parametrize(
    ("kwargs", "error", "named"),
    [
        ({"max_seconds": 0}, ValueError, "max_seconds=0"),
        ({"max_seconds": -1.0}, ValueError, "max_seconds=-1.0"),
        ({"feature_extractor": None}, TypeError, "feature_extractor must be a feature extractor"),
    ],
)
def test_prepare_dataset_argument_errors(corpus, kwargs, error, named):
    arguments = {"corpus": corpus.select([0]), "feature_extractor": LogMelFeatureExtractor(), **kwargs}
    with pytest.raises(error, match=named):
        prepare_dataset(**arguments)


def test_prepare_dataset_refuses_what_is_not_a_dataset():
    with pytest.raises(TypeError, match="got list"):
        prepare_dataset([{"audio": [0.0]}], LogMelFeatureExtractor())


def test_extractor_errors_name_the_corpus_sample_not_the_batch_position(corpus):
    with pytest.raises(ValueError, match=r"audio of sample 1 in column 'audio': .*empty"):
        prepare_dataset(corpus, LogMelFeatureExtractor(), build_tokenizer(["a"]))


@pytest.mark.parametrize(("source", "rate", "named"), [(None, 16_000, "got NoneType"), (".", 0, "sampling_rate=0")])
def test_load_corpus_argument_errors(source, rate, named):
    with pytest.raises((TypeError, ValueError), match=named):
        load_corpus(source, sampling_rate=rate)
