"""What both hf_asr trainers add to `transformers.Trainer`.

- Checkpoints and the final model folder, written atomically and pushed cleanly (see `saving`).
- Collator state: a collator with `state_dict()` (the pretraining collator's mask generator) is saved in each
  checkpoint (`collator_state_<rank>.pt`), as it was before the first batch not yet trained on (loaders draw
  ahead), and restored on resume before the first batch is drawn. Evaluation uses `collator.eval_copy()`, so it
  never advances the training stream.
- Batching by total audio duration (`max_seconds_per_batch`), through `hf_asr.data.batching.DurationBatchSampler`.
- Streamed corpora (`datasets.IterableDataset`, see `streams`): each process reads its own share of the train
  stream in `StreamBatches` (duration batches over a buffer of `shuffle_buffer_size` examples, or the per-device
  batch size), endlessly (`max_steps` is required); an eval stream is read into memory at the first evaluation
  (`streams.materialised`: small, decoded once, evaluated as a Dataset by every process). A resumed run reads the
  stream again up to its checkpoint (the Trainer skips those batches, `ignore_data_skip=False`): the collator
  starts afresh and meets the same batches again, so it stands where it stood at the checkpoint.
- A time budget (`time_budget=TimeBudget(seconds)`): the learning rate follows elapsed time as well as steps, and
  training stops when the budget is spent (see `time_budget`).
- Extra training statistics (added by subclasses with `_record`) averaged over the logging interval and across
  processes, and logged next to `loss`.
"""

from __future__ import annotations

import logging
import os
from functools import partial
from typing import Any

import datasets
import torch
from datasets import Array2D
from torch.utils.data import DataLoader
from transformers.trainer_callback import ProgressCallback
from transformers.trainer_utils import (
    get_last_checkpoint,
    seed_worker,
)

from ..data.features import DURATION_COLUMN
from ..modeling.atomic_write import recover_folders_in
from . import fsdp
from .inputs import check_resumable
from .saving import SavingMixin
from .streams import materialised, process_local_loader, process_share
from .time_budget import TimeBudget, TimeBudgetCallback

logger = logging.getLogger(__name__)

COLLATOR_STATE_NAME = "collator_state_{}.pt"


def resolve_checkpoint(resume_from_checkpoint: str | bool | None, output_dir: str) -> str | None:
    """True / "last" / "auto" -> the last complete checkpoint in `output_dir` (None if there is none); a path as is."""
    if resume_from_checkpoint in (None, False, "", "no", "false", "False"):
        return None
    if resume_from_checkpoint in (True, "True", "true", "last", "auto"):
        if not os.path.isdir(output_dir):
            return None
        return get_last_checkpoint(output_dir)
    return str(resume_from_checkpoint)


def check_resume(resume_from_checkpoint: str | bool | None, args: Any) -> None:
    """`check_resumable` of the checkpoint a run would resume from, if any: called before the features are computed
    (the trainer checks again when training starts)."""
    checkpoint = resolve_checkpoint(resume_from_checkpoint, args.output_dir)
    if checkpoint is not None:
        check_resumable(checkpoint, args)


class HfAsrTrainerMixin(SavingMixin):
    """Mixed in before `transformers.Trainer` (see the module docstring)."""

    def __init__(
        self,
        *args: Any,
        max_seconds_per_batch: float | None = None,
        duration_column: str = DURATION_COLUMN,
        time_budget: TimeBudget | None = None,
        shuffle_buffer_size: int = 1000,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.shuffle_buffer_size = shuffle_buffer_size
        self.time_budget = time_budget
        if time_budget is not None:
            bars = [c for c in self.callback_handler.callbacks if isinstance(c, ProgressCallback)]
            self.add_callback(TimeBudgetCallback(time_budget, progress=bars[0] if bars else None))
        self.max_seconds_per_batch = max_seconds_per_batch
        self.duration_column = duration_column
        self._stat_sums: dict[str, torch.Tensor] = {}
        self._stat_weights: dict[str, torch.Tensor] = {}
        self._warned_worker_streams = False
        self._batches_consumed = 0  # training micro-batches this process has stepped on (for the collator state)
        self._predicting = False  # evaluation batches must not enter the training step's loss normaliser
        if hasattr(self.data_collator, "set_process_index"):
            self.data_collator.set_process_index(self.args.process_index)
        fsdp.warn_if_not_applied(self.args, self.accelerator, self.is_fsdp_enabled)
        if self.is_fsdp_enabled:
            fsdp.materialize_meta_parameters(self.model)

    def prediction_step(self, *args: Any, **kwargs: Any) -> Any:
        self._predicting = True
        try:
            return super().prediction_step(*args, **kwargs)
        finally:
            self._predicting = False

    # ---- resume ----------------------------------------------------------------------------------------------
    def train(self, resume_from_checkpoint: str | bool | None = None, *args: Any, **kwargs: Any) -> Any:
        if self.args.should_save and os.path.isdir(self.args.output_dir):
            recover_folders_in(self.args.output_dir)  # put back a checkpoint that a killed save had moved aside
        self.accelerator.wait_for_everyone()
        checkpoint = resolve_checkpoint(resume_from_checkpoint, self.args.output_dir)
        if resume_from_checkpoint not in (None, False, "auto") and checkpoint is None:  # asked for, not just allowed
            logger.warning("No complete checkpoint in %s: training from the start.", self.args.output_dir)
        if checkpoint is not None:
            step = check_resumable(checkpoint, self.args)
            if self.is_world_process_zero():
                logger.warning(
                    "resumed from %s at step %d (%s); to start over, use another output_dir or --auto_resume false",
                    os.path.basename(os.path.normpath(checkpoint)), step, checkpoint,
                )  # fmt: skip
            if isinstance(self.train_dataset, datasets.IterableDataset) and not self.args.ignore_data_skip:
                # The Trainer skips the batches trained on by reading them again, through the collator.
                self._batches_consumed = step * self.args.gradient_accumulation_steps
            else:
                self._load_collator_state(checkpoint)
        return super().train(checkpoint, *args, **kwargs)

    def _load_collator_state(self, checkpoint: str) -> None:
        collator = self.data_collator
        path = os.path.join(checkpoint, COLLATOR_STATE_NAME.format(self.args.process_index))
        if hasattr(collator, "load_state_dict") and os.path.isfile(path):
            collator.load_state_dict(torch.load(path, weights_only=False))
            self._batches_consumed = int(getattr(collator, "num_calls", 0))
        elif hasattr(collator, "load_state_dict"):
            logger.warning(
                "%s holds no collator state: masks after resuming will differ from an unbroken run.", checkpoint
            )

    def _save_rng_state(self, output_dir: str) -> None:
        super()._save_rng_state(output_dir)
        collator = self.data_collator
        if hasattr(collator, "state_dict") and self.args.dataloader_num_workers > 0:
            # The workers' copies drew the batches: this process' collator has no state to save (see collators.py).
            if not self._warned_worker_streams:
                logger.warning(
                    "dataloader_num_workers=%d: the collator's random draws happen in the workers and are not saved"
                    " in checkpoints; a resumed run draws other masks/augmentation than an unbroken one",
                    self.args.dataloader_num_workers,
                )
                self._warned_worker_streams = True
        elif hasattr(collator, "state_dict"):
            os.makedirs(output_dir, exist_ok=True)
            try:  # the state before the first batch not yet consumed (the loader may have drawn ahead)
                state = collator.state_dict(num_consumed=self._batches_consumed)
            except TypeError:
                state = collator.state_dict()
            torch.save(state, os.path.join(output_dir, COLLATOR_STATE_NAME.format(self.args.process_index)))

    def training_step(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        self._batches_consumed += 1
        return super().training_step(*args, **kwargs)

    # ---- evaluation leaves the training collator's random stream alone ----------------------------------------
    def _with_eval_collator(self, make_loader: Any, *args: Any, **kwargs: Any) -> DataLoader:
        if not hasattr(self.data_collator, "eval_copy"):
            return make_loader(*args, **kwargs)
        training_collator, self.data_collator = self.data_collator, self.data_collator.eval_copy()
        try:
            return make_loader(*args, **kwargs)
        finally:
            self.data_collator = training_collator

    def get_eval_dataloader(self, eval_dataset: Any = None) -> DataLoader:
        if eval_dataset is None and isinstance(self.eval_dataset, datasets.IterableDataset):
            self.eval_dataset = materialised(self.eval_dataset)  # read once, kept for the next evaluations
        elif isinstance(eval_dataset, str) and isinstance(self.eval_dataset[eval_dataset], datasets.IterableDataset):
            self.eval_dataset[eval_dataset] = materialised(self.eval_dataset[eval_dataset])
        elif isinstance(eval_dataset, datasets.IterableDataset):
            eval_dataset = materialised(eval_dataset)
        return self._with_eval_collator(super().get_eval_dataloader, eval_dataset)

    def get_test_dataloader(self, test_dataset: Any) -> DataLoader:
        if isinstance(test_dataset, datasets.IterableDataset):
            test_dataset = materialised(test_dataset)
        return self._with_eval_collator(super().get_test_dataloader, test_dataset)

    # ---- a learning-rate schedule over the time budget ----------------------------------------------------
    def create_scheduler(self, num_training_steps: int, optimizer: Any = None) -> Any:
        if self.time_budget is None:
            return super().create_scheduler(num_training_steps, optimizer)
        if self.lr_scheduler is None:
            budget = self.time_budget
            self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
                optimizer if optimizer is not None else self.optimizer,
                lambda step: budget.lr_factor(budget.progress(step, num_training_steps)),
            )
        return self.lr_scheduler

    # ---- columns the collators read ----------------------------------------------------------------------------
    def _set_signature_columns_if_needed(self) -> None:
        super()._set_signature_columns_if_needed()
        # Raw audio is no argument of the model's forward, but the collators turn it into features per batch.
        if "audio" not in self._signature_columns:
            self._signature_columns = [*self._signature_columns, "audio"]

    def _remove_unused_columns(self, dataset: Any, description: str | None = None) -> Any:
        dataset = super()._remove_unused_columns(dataset, description)
        fmt = getattr(dataset, "format", None)
        features = getattr(dataset, "features", None) or {}
        if fmt is not None and fmt.get("type") is None and isinstance(features.get("input_features"), Array2D):
            # (T, n_mels) Array2D rows read as numpy arrays are many times faster than as nested Python lists;
            # nested-list columns are left alone, since numpy format makes those slower still.
            dataset = dataset.with_format("numpy", columns=["input_features"], output_all_columns=True)
        return dataset

    # ---- duration batching and streams ----------------------------------------------------------------------
    def get_train_dataloader(self) -> DataLoader:
        dataset = self.train_dataset
        if isinstance(dataset, datasets.IterableDataset):
            return self._stream_train_dataloader(dataset)
        if not self.max_seconds_per_batch:
            return super().get_train_dataloader()
        if dataset is None:
            raise ValueError("Trainer: training requires a train_dataset.")
        self._require_duration_column(getattr(dataset, "column_names", ()))
        from ..data.batching import DurationBatchSampler

        durations = [float(d) for d in dataset[self.duration_column]]
        # One batch list for all processes (seed + epoch); accelerate's BatchSamplerShard deals the batches out to
        # the processes (and the Trainer calls set_epoch on this sampler through it).
        batch_sampler = DurationBatchSampler(
            durations,
            max_seconds_per_batch=self.max_seconds_per_batch,
            seed=self.args.data_seed or self.args.seed,
            drop_last=self.args.dataloader_drop_last,
        )
        dataset = self._remove_unused_columns(dataset, description="training")
        loader = DataLoader(
            dataset, batch_sampler=batch_sampler, collate_fn=self.data_collator, **self._loader_settings()
        )
        return self.accelerator.prepare(loader)

    def _stream_train_dataloader(self, stream: datasets.IterableDataset) -> DataLoader:
        from ..data.batching import StreamBatches

        share = process_share(stream, self.args.process_index, self.args.world_size)
        if self.max_seconds_per_batch and share.column_names is not None:
            self._require_duration_column(share.column_names)
        batches = StreamBatches(
            share,
            max_seconds_per_batch=self.max_seconds_per_batch or None,
            batch_size=None if self.max_seconds_per_batch else self._train_batch_size,
            buffer_size=self.shuffle_buffer_size,
            seed=self.args.data_seed or self.args.seed,
            duration_column=self.duration_column,
        )
        loader = DataLoader(
            batches,
            batch_size=None,  # StreamBatches yields the lists of examples to collate
            collate_fn=self._get_collator_with_removed_columns(self.data_collator, description="training"),
            **self._loader_settings(),
        )
        return process_local_loader(loader, self.accelerator)

    def _require_duration_column(self, column_names: Any) -> None:
        if self.duration_column not in (column_names or ()):
            raise ValueError(
                f"max_seconds_per_batch needs a {self.duration_column!r} column (seconds of audio per example) in the "
                "train dataset; hf_asr.data.features.prepare_dataset adds it."
            )

    def _loader_settings(self) -> dict[str, Any]:
        """The training DataLoader's settings from the TrainingArguments (workers, seeded; pinned memory)."""
        workers = self.args.dataloader_num_workers
        return dict(
            num_workers=workers,
            pin_memory=self.args.dataloader_pin_memory,
            persistent_workers=self.args.dataloader_persistent_workers and workers > 0,
            worker_init_fn=partial(seed_worker, num_workers=workers, rank=self.args.process_index),
        )

    # ---- extra statistics ------------------------------------------------------------------------------------
    def _record(self, name: str, value: torch.Tensor | float, weight: torch.Tensor | float = 1.0) -> None:
        """Add `value` (weighted) to the running average of `name`, logged at the next logging step."""
        # Stays on the value's device (no host sync per micro-batch); moved to the CPU at logging time.
        value = torch.as_tensor(value).detach().float()
        weight = torch.as_tensor(weight, device=value.device).detach().float()
        if name in self._stat_sums:
            self._stat_sums[name] = self._stat_sums[name] + value * weight.to(self._stat_sums[name].device)
            self._stat_weights[name] = self._stat_weights[name] + weight.to(self._stat_weights[name].device)
        else:
            self._stat_sums[name], self._stat_weights[name] = value * weight, weight

    def _gather_sum(self, values: torch.Tensor) -> torch.Tensor:
        """Sum a 1-D float64 tensor over processes (identity in a single process)."""
        if self.args.world_size <= 1:
            return values
        gathered = self.accelerator.gather(values.to(self.args.device, torch.float32)[None])  # (W, n)
        return gathered.double().sum(0).cpu()

    def _extra_logs(self) -> dict[str, float]:
        """Averages of the recorded statistics since the last call (across processes); resets them."""
        names = sorted(self._stat_sums)
        if not names:
            return {}
        sums = torch.stack([self._stat_sums[n].double().cpu() for n in names])
        weights = torch.stack([self._stat_weights[n].double().cpu() for n in names])
        totals = self._gather_sum(torch.cat([sums, weights]))
        self._stat_sums.clear()
        self._stat_weights.clear()
        sums, weights = totals[: len(names)], totals[len(names) :]
        return {n: float(s / w) if w > 0 else float("nan") for n, s, w in zip(names, sums, weights)}

    def log(self, logs: dict[str, float], *args: Any, **kwargs: Any) -> None:
        if "loss" in logs:  # a training log: every process gets here at the same step
            logs.update(self._extra_logs())
            logs.update(self._training_logs())
        super().log(logs, *args, **kwargs)

    def _training_logs(self) -> dict[str, float]:
        """Subclass hook: values added to each training log (e.g. cumulative counters)."""
        return {}


__all__ = ["HfAsrTrainerMixin", "resolve_checkpoint", "check_resume", "COLLATOR_STATE_NAME", "DURATION_COLUMN"]
