"""Batches bounded by seconds of audio rather than by number of utterances.

Utterances are grouped into `num_buckets` buckets of similar duration (quantiles), shuffled inside each bucket, packed
greedily (buckets in duration order) into batches whose padded size (count x longest duration) stays within
`max_seconds_per_batch`, and the batches are shuffled. The shuffle is drawn from `seed + epoch`, so every run and
every DDP rank sees the same batches for a given epoch (call `set_epoch` each epoch, as with DistributedSampler).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler


class DurationBatchSampler(Sampler[list[int]]):
    """Yield lists of dataset indices whose padded audio length is at most `max_seconds_per_batch`.

    durations: seconds of each utterance (e.g. the corpus' `duration` column); index i refers to dataset row i.
    max_seconds_per_batch: bound on len(batch) * max(durations in batch), which also bounds their sum.
    num_buckets: duration buckets; more buckets = less padding, less randomness.
    shuffle: if False, batches come in bucket order, each bucket in index order (for evaluation).
    drop_last: with DDP, drop trailing batches instead of repeating leading ones so all ranks get the same count.
    num_replicas, rank: DDP sharding: rank r takes batches r, r + num_replicas, ... of the epoch's batch list.
    max_batch_size: optional cap on utterances per batch.

    With one replica and no drop_last, each epoch covers every index exactly once. With several replicas, the batch
    list is padded by repeating its first batches (or truncated with drop_last) to a multiple of num_replicas.
    An utterance longer than the bound raises ValueError at construction: filter such utterances out first.
    Use with `DataLoader(dataset, batch_sampler=sampler, collate_fn=...)`.
    """

    def __init__(
        self,
        durations: Sequence[float],
        max_seconds_per_batch: float,
        num_buckets: int = 10,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        num_replicas: int = 1,
        rank: int = 0,
        max_batch_size: int | None = None,
    ) -> None:
        self.durations = torch.as_tensor(list(durations), dtype=torch.float64)
        if self.durations.ndim != 1 or len(self.durations) == 0:
            raise ValueError("durations must be a non-empty list of seconds, one per utterance")
        if max_seconds_per_batch <= 0:
            raise ValueError(f"max_seconds_per_batch must be positive, got {max_seconds_per_batch}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} is outside 0..{num_replicas - 1} (num_replicas={num_replicas})")
        if max_batch_size is not None and max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, got {max_batch_size}")
        invalid = torch.nonzero(~torch.isfinite(self.durations) | (self.durations < 0)).flatten()
        if len(invalid):
            i = int(invalid[0])
            raise ValueError(f"utterance {i} has invalid duration {float(self.durations[i])}")
        too_long = torch.nonzero(self.durations > max_seconds_per_batch).flatten()
        if len(too_long):
            i = int(too_long[0])
            raise ValueError(
                f"{len(too_long)} utterance(s) are longer than max_seconds_per_batch={max_seconds_per_batch}, "
                f"e.g. index {i} ({float(self.durations[i]):.2f} s); filter them out or raise the bound"
            )
        self.max_seconds_per_batch = float(max_seconds_per_batch)
        self.num_buckets = max(1, min(num_buckets, len(self.durations)))
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.num_replicas = num_replicas
        self.rank = rank
        self.max_batch_size = max_batch_size
        self.epoch = 0
        self._seconds: list[float] = self.durations.tolist()  # fast per-index reads while packing
        self._cache: tuple[int, list[list[int]]] | None = None

    def set_epoch(self, epoch: int) -> None:
        """Choose the shuffle of `epoch` (same on every rank)."""
        self.epoch = epoch

    def epoch_batches(self) -> list[list[int]]:
        """All batches of the current epoch, before sharding across ranks (identical on every rank)."""
        if self._cache is not None and self._cache[0] == self.epoch:
            return self._cache[1]
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        # Stable sort by duration; ties keep index order so the buckets are deterministic.
        order = torch.sort(self.durations, stable=True).indices
        buckets = list(torch.tensor_split(order, self.num_buckets))
        if self.shuffle:
            buckets = [bucket[torch.randperm(len(bucket), generator=generator)] for bucket in buckets]
        # Packing runs across bucket boundaries (buckets stay in duration order), so a small bucket never forces a
        # small batch; a batch that spans a boundary mixes two neighbouring buckets only.
        batches = self._pack(torch.cat(buckets).tolist())
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
        self._cache = (self.epoch, batches)
        return batches

    def _pack(self, indices: list[int]) -> list[list[int]]:
        """Greedy packing in the given order: start a new batch when the next utterance would break a bound."""
        batches: list[list[int]] = []
        batch: list[int] = []
        longest = 0.0
        for index in indices:
            duration = self._seconds[index]
            new_longest = max(longest, duration)
            full = self.max_batch_size is not None and len(batch) >= self.max_batch_size
            if batch and (full or (len(batch) + 1) * new_longest > self.max_seconds_per_batch):
                batches.append(batch)
                batch, new_longest = [], duration
            batch.append(index)
            longest = new_longest
        if batch:
            batches.append(batch)
        return batches

    def _num_batches_per_rank(self, total: int) -> int:
        if self.drop_last:
            return total // self.num_replicas
        return math.ceil(total / self.num_replicas)

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.epoch_batches()
        per_rank = self._num_batches_per_rank(len(batches))
        wanted = per_rank * self.num_replicas
        # Pad by cycling from the start (the batch list may be shorter than num_replicas), or truncate.
        padded = [batches[i % len(batches)] for i in range(wanted)]
        yield from padded[self.rank : wanted : self.num_replicas]

    def __len__(self) -> int:
        return self._num_batches_per_rank(len(self.epoch_batches()))
