"""Batches bounded by seconds of audio rather than by number of utterances.

`DurationBatchSampler` (a corpus with a `duration` column): utterances are grouped into `num_buckets` buckets of
similar duration (quantiles), shuffled inside each bucket, packed greedily (buckets in duration order) into batches
whose padded size (count x longest duration) stays within `max_seconds_per_batch`, and the batches are shuffled. The
shuffle is drawn from `seed + epoch`, so every run and every DDP rank sees the same batches for a given epoch (call
`set_epoch` each epoch, as with DistributedSampler).

`StreamBatches` (a stream, e.g. a `datasets.IterableDataset`): the same packing over a buffer of the stream's next
`buffer_size` examples sorted by duration, the buffer's batches shuffled; pass after pass, endlessly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import torch
from torch.utils.data import IterableDataset, Sampler, get_worker_info

from ..modeling.value_rules import COUNT, POSITIVE, check_optional, check_value


def pack_by_duration(
    durations: Sequence[float], order: Iterable[int], max_seconds_per_batch: float, max_batch_size: int | None = None
) -> list[list[int]]:
    """Greedy packing of the indices in `order`: a new batch starts when the next utterance would make the batch's
    padded size, len(batch) * its longest duration, exceed `max_seconds_per_batch` (or its size `max_batch_size`).

    durations: seconds of each utterance, read at the indices of `order`. Returns lists of indices, in order.
    """
    batches: list[list[int]] = []
    batch: list[int] = []
    longest = 0.0
    for index in order:
        duration = durations[index]
        new_longest = max(longest, duration)
        full = max_batch_size is not None and len(batch) >= max_batch_size
        if batch and (full or (len(batch) + 1) * new_longest > max_seconds_per_batch):
            batches.append(batch)
            batch, new_longest = [], duration
        batch.append(index)
        longest = new_longest
    if batch:
        batches.append(batch)
    return batches


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
        batches = pack_by_duration(
            self._seconds, torch.cat(buckets).tolist(), self.max_seconds_per_batch, self.max_batch_size
        )
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
        self._cache = (self.epoch, batches)
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


class StreamBatches(IterableDataset):
    """Lists of examples (dicts) read from a stream, pass after pass, endlessly; for `DataLoader(batch_size=None)`.

    examples: any re-iterable of dicts, e.g. a `datasets.IterableDataset`; before pass p, `examples.set_epoch(p)` is
        called when it has one (a shuffled datasets stream then reshuffles its shards and its buffer).
    max_seconds_per_batch: read the next `buffer_size` examples, sort them by `duration_column` (stable), pack them
        as `DurationBatchSampler` does (`pack_by_duration`: count x longest <= the bound, at most `max_batch_size`)
        and yield the buffer's batches in an order drawn from `seed + p`. An example longer than the bound, or
        without a finite duration, raises ValueError naming its place in the stream.
    batch_size: instead, batches of `batch_size` examples in stream order.

    The stream never ends (each pass ends with whatever batch is left): a run stops at its step count, and a run
    resumed by skipping the batches it trained on meets the same batches after them, whichever pass it is in.
    A pass without a single example raises ValueError (the stream is empty), except in a DataLoader worker, which
    may have been given no shard of the stream and simply stops.
    """

    def __init__(
        self,
        examples: Iterable[dict[str, Any]],
        max_seconds_per_batch: float | None = None,
        batch_size: int | None = None,
        buffer_size: int = 1000,
        seed: int = 0,
        duration_column: str = "duration",
        max_batch_size: int | None = None,
    ) -> None:
        if (max_seconds_per_batch is None) == (batch_size is None):
            raise ValueError("give exactly one of max_seconds_per_batch (duration batches) and batch_size")
        self.examples = examples
        self.max_seconds_per_batch = check_optional("max_seconds_per_batch", max_seconds_per_batch, POSITIVE)
        self.batch_size = check_optional("batch_size", batch_size, COUNT)
        self.buffer_size = check_value("buffer_size", buffer_size, COUNT)
        self.max_batch_size = check_optional("max_batch_size", max_batch_size, COUNT)
        self.seed = int(seed)
        self.duration_column = duration_column

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        for epoch in itertools.count():
            if hasattr(self.examples, "set_epoch"):
                self.examples.set_epoch(epoch)
            generator = torch.Generator().manual_seed(self.seed + epoch)
            empty = True
            for batch in self._batches_of_pass(epoch, generator):
                empty = False
                yield batch
            if empty:
                if get_worker_info() is not None:
                    return
                raise ValueError("the stream gave no example: nothing to batch (is the corpus split empty?)")

    def _batches_of_pass(self, epoch: int, generator: torch.Generator) -> Iterator[list[dict[str, Any]]]:
        buffer: list[dict[str, Any]] = []
        durations: list[float] = []
        for position, example in enumerate(self.examples):
            buffer.append(example)
            if self.max_seconds_per_batch is None:
                if len(buffer) == self.batch_size:
                    yield buffer
                    buffer = []
                continue
            durations.append(self._duration(example, f"example {position} of pass {epoch}"))
            if len(buffer) == self.buffer_size:
                yield from self._packed(buffer, durations, generator)
                buffer, durations = [], []
        if buffer and self.max_seconds_per_batch is None:
            yield buffer
        elif buffer:
            yield from self._packed(buffer, durations, generator)

    def _duration(self, example: dict[str, Any], where: str) -> float:
        if self.duration_column not in example:
            raise ValueError(
                f"{where} of the stream has no {self.duration_column!r} (seconds of audio), needed for duration "
                f"batches; its columns are {sorted(example)}. hf_asr.data.features.prepare_dataset adds it"
            )
        seconds = float(example[self.duration_column])
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"{where} of the stream has invalid duration {seconds}")
        if seconds > self.max_seconds_per_batch:
            raise ValueError(
                f"{where} of the stream lasts {seconds:.2f} s, longer than max_seconds_per_batch="
                f"{self.max_seconds_per_batch}: drop such utterances (prepare_dataset max_seconds, --max_audio_seconds)"
                " or raise the bound"
            )
        return seconds

    def _packed(
        self, buffer: list[dict[str, Any]], durations: list[float], generator: torch.Generator
    ) -> Iterator[list[dict[str, Any]]]:
        order = sorted(range(len(buffer)), key=durations.__getitem__)  # stable: ties keep stream order
        batches = pack_by_duration(durations, order, self.max_seconds_per_batch, self.max_batch_size)
        for index in torch.randperm(len(batches), generator=generator).tolist():
            yield [buffer[i] for i in batches[index]]
