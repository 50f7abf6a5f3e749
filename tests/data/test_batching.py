import itertools
import random

import pytest
import torch
from torch.utils.data import DataLoader

from hf_asr.data.batching import DurationBatchSampler, StreamBatches


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


# ---- StreamBatches: the same packing over buffers of a stream ----------------------------------------------------
def _stream(durations: list[float]) -> list[dict]:
    return [{"id": i, "duration": d} for i, d in enumerate(durations)]


def _ids(batches) -> list[list[int]]:
    return [[example["id"] for example in batch] for batch in batches]


def test_stream_batches_pack_a_buffer_as_the_sampler_packs_the_corpus():
    durations = _durations(200)
    unshuffled = list(DurationBatchSampler(durations, 40.0, num_buckets=1, shuffle=False))
    stream = StreamBatches(_stream(durations), max_seconds_per_batch=40.0, buffer_size=200, seed=5)
    one_pass = _ids(itertools.islice(stream, len(unshuffled)))
    assert sorted(one_pass) == sorted(unshuffled)  # the same batches...
    assert one_pass != unshuffled  # ...in a shuffled order
    assert all(_padded_seconds(b, durations) <= 40.0 for b in one_pass)


def test_stream_batches_stay_within_their_buffer_and_repeat_seeded_passes():
    durations = _durations(50)
    batches = _ids(itertools.islice(StreamBatches(_stream(durations), 20.0, buffer_size=10, seed=1), 200))
    per_pass = [i for b in batches for i in b]
    passes = [per_pass[k : k + 50] for k in range(0, 150, 50)]  # the stream starts over after every example
    assert all(sorted(p) == list(range(50)) for p in passes)
    assert all(max(b) // 10 == min(b) // 10 for b in batches)  # each batch from one buffer of 10 examples
    assert passes[0] != passes[1]  # each pass draws its own order (seed + pass)
    again = _ids(itertools.islice(StreamBatches(_stream(durations), 20.0, buffer_size=10, seed=1), 200))
    assert again == batches
    assert _ids(itertools.islice(StreamBatches(_stream(durations), 20.0, buffer_size=10, seed=2), 200)) != batches


def test_stream_batches_of_a_fixed_size_keep_the_stream_order():
    batches = _ids(itertools.islice(StreamBatches(_stream([1.0] * 7), batch_size=3), 4))
    assert batches == [[0, 1, 2], [3, 4, 5], [6], [0, 1, 2]]


def test_stream_batches_name_bad_examples():
    with pytest.raises(ValueError, match=r"example 2 of pass 0 of the stream lasts 30.00 s"):
        list(itertools.islice(StreamBatches(_stream([1.0, 2.0, 30.0]), 20.0), 3))
    with pytest.raises(ValueError, match=r"example 1 of pass 0 .* invalid duration nan"):
        list(itertools.islice(StreamBatches(_stream([1.0, float("nan")]), 20.0), 3))
    with pytest.raises(ValueError, match=r"has no 'duration'.*columns are \['id'\]"):
        next(iter(StreamBatches([{"id": 0}], 20.0)))
    with pytest.raises(ValueError, match="the stream gave no example"):
        next(iter(StreamBatches([], 20.0)))
    with pytest.raises(ValueError, match="exactly one of"):
        StreamBatches([], 20.0, batch_size=4)
    with pytest.raises(ValueError, match="buffer_size"):
        StreamBatches([], 20.0, buffer_size=0)
