"""How both hf_asr trainers save: atomic checkpoints, FSDP's sharded and gathered weights, the clean final model
folder and what reaches the Hub. Mixed into `base.HfAsrTrainerMixin`, before `transformers.Trainer`.

- Atomic checkpoints: transformers 5.24 writes `checkpoint-N` in place (a process killed mid-save leaves a
  half-written folder that `get_last_checkpoint` would pick). Here every checkpoint is written into
  `.tmp-checkpoint-N/checkpoint-N` and swapped into place as `checkpoint-N` once complete (`replace_folder`).
- FSDP (see `fsdp`): with a sharded state dict, checkpoints hold the sharded model and optimizer state (for
  resuming) plus the config and processor, so that `accelerate merge-weights CKPT/pytorch_model_fsdp_0 CKPT` makes
  a checkpoint a model folder; the final folder holds the gathered weights, saved from an unsharded copy.
- A clean final model folder (`save_final_model`, see `run_folder`): written atomically, without training_args.bin;
  `push_to_hub` uploads that folder, and checkpoint uploads only a checkpoint's model files, so checkpoints,
  training state and logs never reach the Hub repo (unless `hub_strategy` asks for the checkpoint itself).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from typing import Any

import torch
from transformers.trainer import TRAINING_ARGS_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, HubStrategy, rotate_checkpoints
from transformers.utils import PushInProgress, hf_api

from ..modeling.atomic_write import replace_folder
from . import fsdp
from .run_folder import TRAINING_STATE_PATTERNS

STAGING_PREFIX = ".tmp-"


class SavingMixin:
    """The saving half of `HfAsrTrainerMixin` (see the module docstring)."""

    _staging_run_dir: str | None = None  # while Trainer._save_checkpoint writes into the staging folder
    _push_deferred = False
    _final_model_dir: str | None = None  # set by save_final_model: what push_to_hub uploads
    _saving_final = False

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
