"""What both hf_asr trainers add to `transformers.Trainer`.

- Atomic checkpoints: transformers 5.24 writes `checkpoint-N` in place (a process killed mid-save leaves a
  half-written folder that `get_last_checkpoint` would pick). Here every checkpoint is written into
  `.tmp-checkpoint-N/checkpoint-N` and swapped into place as `checkpoint-N` once complete (`replace_folder`).
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
- FSDP (see `fsdp`): with a sharded state dict, checkpoints hold the sharded model and optimizer state (for
  resuming) plus the config and processor, so that `accelerate merge-weights CKPT/pytorch_model_fsdp_0 CKPT` makes
  a checkpoint a model folder; the final folder holds the gathered weights, saved from an unsharded copy.
- A clean final model folder (`save_final_model`, see `run_folder`): written atomically, without training_args.bin;
  `push_to_hub` uploads that folder, and checkpoint uploads only a checkpoint's model files, so checkpoints,
  training state and logs never reach the Hub repo (unless `hub_strategy` asks for the checkpoint itself).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from functools import partial
from typing import Any

import datasets
import torch
from datasets import Array2D
from torch.utils.data import DataLoader
from transformers.trainer import TRAINING_ARGS_NAME
from transformers.trainer_callback import ProgressCallback
from transformers.trainer_utils import (
    PREFIX_CHECKPOINT_DIR,
    HubStrategy,
    get_last_checkpoint,
    rotate_checkpoints,
    seed_worker,
)
from transformers.utils import PushInProgress, hf_api

from ..data.features import DURATION_COLUMN
from ..modeling.atomic_write import recover_folders_in, replace_folder
from . import fsdp
from .inputs import check_resumable
from .run_folder import TRAINING_STATE_PATTERNS
from .streams import materialised, process_local_loader, process_share
from .time_budget import TimeBudget, TimeBudgetCallback

logger = logging.getLogger(__name__)

COLLATOR_STATE_NAME = "collator_state_{}.pt"
STAGING_PREFIX = ".tmp-"


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


class HfAsrTrainerMixin:
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
        self._staging_run_dir: str | None = None
        self._push_deferred = False
        self._final_model_dir: str | None = None  # set by save_final_model: what push_to_hub uploads
        self._saving_final = False
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

    # ---- atomic checkpoints ----------------------------------------------------------------------------------
    def _get_output_dir(self, trial: Any) -> str:
        if self._staging_run_dir is not None:
            return self._staging_run_dir
        return super()._get_output_dir(trial)

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        run_dir = self._get_output_dir(trial)
        name = f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
        staging = os.path.join(run_dir, STAGING_PREFIX + name)
        final = os.path.join(run_dir, name)
        if self.args.should_save:
            shutil.rmtree(staging, ignore_errors=True)  # left over by a process killed while saving
        self.accelerator.wait_for_everyone()
        self._staging_run_dir = staging
        self._push_deferred = False
        try:
            super()._save_checkpoint(model, trial)
        finally:
            self._staging_run_dir = None
        self.accelerator.wait_for_everyone()
        if self.args.should_save:
            # Saving the same step twice (e.g. again at the end of training) swaps out the older folder.
            replace_folder(os.path.join(staging, name), final)
            shutil.rmtree(staging, ignore_errors=True)
            best = self.state.best_model_checkpoint
            if best is not None and best.startswith(staging):
                self.state.best_model_checkpoint = final + best[len(os.path.join(staging, name)) :]
                self.state.save_to_json(os.path.join(final, "trainer_state.json"))
            rotate_checkpoints(run_dir, self.args.save_total_limit, self.state.best_model_checkpoint, use_mtime=True)
        self.accelerator.wait_for_everyone()
        if self._push_deferred:
            self._push_checkpoint(final)

    # ---- FSDP ------------------------------------------------------------------------------------------------
    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """`Trainer.save_model`, except under FSDP (see `fsdp`): a checkpoint with a sharded state dict gets the
        config and processor beside the Trainer's sharded files; otherwise the gathered weights are saved from an
        unsharded copy. Every process must call it: gathering the weights is a collective."""
        if not self.is_fsdp_enabled:
            return super().save_model(output_dir, _internal_call)
        output_dir = output_dir if output_dir is not None else self.args.output_dir
        if _internal_call and fsdp.state_dict_is_sharded(self.accelerator):
            if self.args.should_save:
                os.makedirs(output_dir, exist_ok=True)
                self.accelerator.unwrap_model(self.model).config.save_pretrained(output_dir)
                self._save_processing_class(output_dir)
            return
        state_dict = self.accelerator.get_state_dict(self.model)  # full on the main process, empty elsewhere
        if self.args.should_save:
            fsdp.unsharded_copy(self.accelerator.unwrap_model(self.model), state_dict).save_pretrained(output_dir)
            self._save_processing_class(output_dir)
            torch.save(self.args, os.path.join(output_dir, TRAINING_ARGS_NAME))
        if self.args.push_to_hub and not _internal_call:
            self.push_to_hub(commit_message="Model save", revision=self.args.hub_revision)

    def _save_processing_class(self, output_dir: str) -> None:
        if self.processing_class is not None:
            self.processing_class.save_pretrained(output_dir)

    def _push_from_checkpoint(self, checkpoint_folder: str) -> None:
        # Called by Trainer._save_checkpoint on the staging folder, whose upload would race with the rename:
        # push the renamed folder afterwards instead.
        if self._staging_run_dir is not None:
            self._push_deferred = True
            return
        self._push_checkpoint(checkpoint_folder)

    def _push_checkpoint(self, checkpoint: str) -> None:
        """What `Trainer._push_from_checkpoint` does, without copying the model into output_dir and uploading that
        (with the run's logs and training state): the checkpoint's model files go to the repo's root, and with
        hub_strategy "checkpoint"/"all_checkpoints" the whole checkpoint to last-checkpoint/ or checkpoint-N/."""
        if not self.is_world_process_zero() or self.args.hub_strategy == HubStrategy.END:
            return
        if not self.args.hub_always_push and self.push_in_progress is not None and not self.push_in_progress.is_done():
            return  # the previous upload is still running (as the Trainer does)
        self.callback_handler.on_push_begin(self.args, self.state, self.control)
        message = f"Training in progress, step {self.state.global_step}"
        upload = dict(repo_id=self.hub_model_id, token=self.args.hub_token, revision=self.args.hub_revision)
        jobs = [
            hf_api().upload_folder(
                folder_path=checkpoint,
                commit_message=message,
                run_as_future=True,
                ignore_patterns=TRAINING_STATE_PATTERNS,
                **upload,
            )
        ]
        if self.args.hub_strategy in (HubStrategy.CHECKPOINT, HubStrategy.ALL_CHECKPOINTS):
            last = self.args.hub_strategy == HubStrategy.CHECKPOINT
            where = "last-checkpoint" if last else os.path.basename(checkpoint)
            jobs.append(
                hf_api().upload_folder(
                    folder_path=checkpoint,
                    path_in_repo=where,
                    commit_message=message + ", checkpoint",
                    run_as_future=True,
                    **upload,
                )
            )
        if self.push_in_progress is None or self.push_in_progress.is_done():
            self.push_in_progress = PushInProgress(jobs)
        else:
            self.push_in_progress.jobs.extend(jobs)

    # ---- the final model folder ------------------------------------------------------------------------------
    def save_final_model(self, folder: str, extra_files: dict[str, str] | None = None) -> None:
        """Save the model and the processing class into `folder`, a clean model folder (no training_args.bin), with
        `extra_files` (name -> text: a model card) in it; then, with push_to_hub, upload it.

        Written into a hidden sibling first and swapped into place (`replace_folder`), so a killed save leaves the
        previous folder or none, never a mix. Called by every process (under FSDP, gathering the weights is a
        collective); only the saving process writes."""
        staging = os.path.join(os.path.dirname(folder), STAGING_PREFIX + os.path.basename(folder))
        if self.args.should_save:
            shutil.rmtree(staging, ignore_errors=True)  # left over by a process killed while saving
        self.accelerator.wait_for_everyone()
        self._saving_final = True  # Trainer.save_model pushes the folder it saved: the staging folder here
        try:
            self.save_model(staging)
        finally:
            self._saving_final = False
        if self.args.should_save:
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(staging, TRAINING_ARGS_NAME))  # the run's settings, in its checkpoints
            for name, text in (extra_files or {}).items():
                with open(os.path.join(staging, name), "w", encoding="utf-8") as handle:
                    handle.write(text)
            replace_folder(staging, folder)
        self.accelerator.wait_for_everyone()
        self._final_model_dir = folder
        if self.args.push_to_hub:
            self.push_to_hub()

    def push_to_hub(
        self,
        commit_message: str | None = "End of training",
        blocking: bool = True,
        token: str | None = None,
        revision: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Upload the final model folder of `save_final_model` (the Trainer would upload output_dir, with its
        checkpoints' neighbours: logs, metrics, training_args.bin). Before there is one, as the Trainer does."""
        if self._saving_final:
            return None  # called by save_model on the staging folder: save_final_model pushes once it is in place
        if self._final_model_dir is None:
            return super().push_to_hub(commit_message, blocking, token, revision, **kwargs)
        self.callback_handler.on_push_begin(self.args, self.state, self.control)
        token = token if token is not None else self.args.hub_token
        if self.hub_model_id is None:
            self.init_hf_repo(token=token, private=kwargs.get("private"))
        if not self.is_world_process_zero():
            return None
        self._finish_current_push()
        return hf_api().upload_folder(
            repo_id=self.hub_model_id,
            folder_path=self._final_model_dir,
            commit_message=commit_message,
            token=token,
            run_as_future=not blocking,
            revision=revision if revision is not None else self.args.hub_revision,
        )

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
