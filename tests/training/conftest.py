"""Fixtures of the training tests: a tone corpus, its tokenizer/processor, tiny configs; one CPU thread.

One thread keeps timings stable on a shared 2-core machine (OpenMP threads spin badly under contention) and makes
runs in different processes bit-identical.
"""

from __future__ import annotations

import pytest
import torch

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Processor

from .synthetic import SENTENCES, tone_corpus

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def processor() -> LogMelWav2Vec2Processor:
    from hf_asr.data.vocab import build_tokenizer

    return LogMelWav2Vec2Processor(LogMelFeatureExtractor(), build_tokenizer(SENTENCES))


@pytest.fixture(scope="session")
def raw_corpus():
    return tone_corpus(copies=2, seed=0)


@pytest.fixture(scope="session")
def prepared(processor, raw_corpus):
    from hf_asr.data.features import prepare_dataset

    return prepare_dataset(raw_corpus, processor.feature_extractor, processor.tokenizer)
