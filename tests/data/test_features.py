"""`prepare_dataset`'s duration bounds: utterances outside [min_seconds, max_seconds] are dropped."""

import datasets
import numpy as np
import pytest

from hf_asr import LogMelFeatureExtractor
from hf_asr.data.features import prepare_dataset

SECONDS = [0.1, 0.2, 0.3, 0.4]


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize(
    ("bounds", "kept"), [({"min_seconds": 0.2}, SECONDS[1:]), ({"min_seconds": 0.15, "max_seconds": 0.35}, [0.2, 0.3])]
)
def test_utterances_outside_the_duration_bounds_are_dropped(precompute, bounds, kept):
    audio = [{"array": np.zeros(round(s * 16_000), np.float32), "sampling_rate": 16_000} for s in SECONDS]
    corpus = datasets.Dataset.from_dict({"audio": audio})
    prepared = prepare_dataset(corpus, LogMelFeatureExtractor(), precompute_features=precompute, **bounds)
    assert prepared["duration"] == pytest.approx(kept)


def test_bounds_that_keep_nothing_are_refused():
    corpus = datasets.Dataset.from_dict({"audio": [np.zeros(1600, np.float32)]})
    with pytest.raises(ValueError, match="min_seconds=2 is above max_seconds=1"):
        prepare_dataset(corpus, LogMelFeatureExtractor(), min_seconds=2, max_seconds=1)
    with pytest.raises(ValueError, match="min_seconds=-1"):
        prepare_dataset(corpus, LogMelFeatureExtractor(), min_seconds=-1)
