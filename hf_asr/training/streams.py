"""Data loaders over streamed corpora (`datasets.IterableDataset`) for the hf_asr trainers.

Left to `Accelerator.prepare`, a loader over an IterableDataset is dispatched (process 0 reads num_processes
batches, concatenates them, which fails for batches padded to different lengths, and sends each process a slice),
or with `dispatch_batches=False` split once more (a stream split by node sharded again, or every batch sliced). So:

- Training: each process reads its own part of the stream (`split_dataset_by_node`), makes its own batches
  (`StreamBatches`: duration batches, or the per-device batch size) and accelerate only moves them to the device.
  The stream is endless, so every process runs the same `max_steps`.
- Evaluation: the (small) eval stream is read once into memory (`materialised`) and evaluated as a Dataset;
  a stream given to `predict` too.
  transformers' run_speech_recognition_ctc_streaming.py evaluates on the stream instead; under DDP that goes
  through the dispatching above, which fails on CTC batches (tried: accelerate's concatenate of batches padded to
  different lengths, and again for the padded last batch when the eval split is no multiple of the global batch),
  and it would decode the eval split again at every evaluation.
"""

from __future__ import annotations

import logging

import datasets
from accelerate import Accelerator
from accelerate.data_loader import prepare_data_loader
from datasets.distributed import split_dataset_by_node
from torch.utils.data import DataLoader

logger = logging.getLogger(__name__)


def process_share(stream: datasets.IterableDataset, process_index: int, num_processes: int) -> datasets.IterableDataset:
    """The part of `stream` that process `process_index` of `num_processes` reads: whole shards when their number
    is a multiple of `num_processes`; otherwise every process reads (and prepares) the whole stream and keeps one
    example in `num_processes`, which is logged as a warning."""
    if num_processes <= 1:
        return stream
    if stream.n_shards % num_processes:
        logger.warning(
            "The training stream has %d shards, not a multiple of %d processes: every process reads all of it and "
            "keeps 1 example in %d.",
            stream.n_shards,
            num_processes,
            num_processes,
        )
    return split_dataset_by_node(stream, rank=process_index, world_size=num_processes)


def process_local_loader(loader: DataLoader, accelerator: Accelerator) -> DataLoader:
    """`loader` as accelerate prepares it for a single process: batches moved to the device, never dispatched from
    process 0 nor split across processes (each process' loader reads its own share already)."""
    return prepare_data_loader(
        loader,
        accelerator.device,
        num_processes=1,
        process_index=0,
        put_on_device=accelerator.device_placement,
        rng_types=list(accelerator.rng_types),
        dispatch_batches=False,
        non_blocking=accelerator.non_blocking,
    )


def materialised(stream: datasets.IterableDataset) -> datasets.Dataset:
    """The whole of `stream` (an eval split) read into an in-memory Dataset with its columns' features; every
    process reads all of it, once."""
    return datasets.Dataset.from_list(list(stream), features=stream.features)


__all__ = ["process_share", "process_local_loader", "materialised"]
