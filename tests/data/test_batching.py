import random

import pytest
import torch
from torch.utils.data import DataLoader

from hf_asr.data.batching import DurationBatchSampler


def _durations(n: int = 500, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(0.5, 12.0) for _ in range(n)]


def _padded_seconds(batch: list[int], durations: list[float]) -> float:
    return len(batch) * max(durations[i] for i in batch)


def test_batches_respect_the_bound_and_cover_every_index_once():
    durations = _durations()
    sampler = DurationBatchSampler(durations, max_seconds_per_batch=40.0, seed=1)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(i for b in batches for i in b) == list(range(len(durations)))
    assert all(_padded_seconds(b, durations) <= 40.0 for b in batches)
    assert all(sum(durations[i] for i in b) <= 40.0 for b in batches)


def test_bucketing_keeps_padding_low():
    durations = _durations()
    batches = list(DurationBatchSampler(durations, max_seconds_per_batch=60.0, num_buckets=10))
    padded = sum(_padded_seconds(b, durations) for b in batches)
    assert sum(durations) / padded > 0.85
    # Random batches of the same sizes pad far more: the bucketing is what helps.
    shuffled = list(range(len(durations)))
    random.Random(0).shuffle(shuffled)
    random_padded, start = 0.0, 0
    for b in batches:
        random_padded += _padded_seconds(shuffled[start : start + len(b)], durations)
        start += len(b)
    assert random_padded > 1.3 * padded


def test_shuffle_is_seeded_per_epoch():
    durations = _durations()
    a = DurationBatchSampler(durations, 40.0, seed=3)
    b = DurationBatchSampler(durations, 40.0, seed=3)
    assert list(a) == list(b)
    epoch0 = list(a)
    a.set_epoch(1)
    assert list(a) != epoch0
    b.set_epoch(1)
    assert list(a) == list(b)
    assert list(DurationBatchSampler(durations, 40.0, seed=4)) != epoch0


def test_no_shuffle_goes_from_short_to_long():
    durations = _durations(100)
    batches = list(DurationBatchSampler(durations, 30.0, shuffle=False))
    longest = [max(durations[i] for i in b) for b in batches]
    assert longest == sorted(longest)


@pytest.mark.parametrize("drop_last", [False, True])
def test_ddp_ranks_get_equal_batch_counts(drop_last):
    durations = _durations(301)
    ranks = [
        DurationBatchSampler(durations, 35.0, seed=2, num_replicas=3, rank=r, drop_last=drop_last) for r in range(3)
    ]
    per_rank = [list(s) for s in ranks]
    assert len({len(b) for b in per_rank}) == 1 and len(per_rank[0]) == len(ranks[0])
    total = len(DurationBatchSampler(durations, 35.0, seed=2).epoch_batches())
    seen = [i for batches in per_rank for b in batches for i in b]
    if drop_last:
        assert len(per_rank[0]) == total // 3 and len(seen) == len(set(seen))
    else:
        assert set(seen) == set(range(len(durations)))  # every index, some repeated as padding
    # Different ranks get different batches of the same epoch.
    assert per_rank[0][0] != per_rank[1][0]


def test_max_batch_size_and_dataloader_use():
    durations = [1.0] * 50
    sampler = DurationBatchSampler(durations, 100.0, max_batch_size=8, seed=0)
    assert max(len(b) for b in sampler) == 8
    loader = DataLoader(torch.arange(50), batch_sampler=sampler)
    assert sorted(torch.cat(list(loader)).tolist()) == list(range(50))


def test_invalid_inputs_are_named():
    with pytest.raises(ValueError, match=r"index 2 \(30.00 s\)"):
        DurationBatchSampler([1.0, 2.0, 30.0], 20.0)
    with pytest.raises(ValueError, match="utterance 1 has invalid duration nan"):
        DurationBatchSampler([1.0, float("nan")], 20.0)
    with pytest.raises(ValueError, match="rank 2"):
        DurationBatchSampler([1.0], 20.0, num_replicas=2, rank=2)
