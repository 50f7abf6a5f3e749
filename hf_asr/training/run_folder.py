"""The layout of a training run's `output_dir`, and which files of it are a model and which the run's own.

output_dir/
  model/               the final model folder: weights, config, processor (and LM decoder), model code,
                       README.md (model card). What `from_pretrained`, `pipeline()` and `--push_to_hub` use.
  checkpoint-N/        the Trainer's checkpoints (model + optimizer, scheduler, RNG and trainer state)
  train_results.json, eval_results.json, all_results.json, trainer_state.json
                       the run's metrics, as transformers' example scripts write them
  runs/                TensorBoard logs (--report_to tensorboard)
"""

from __future__ import annotations

import os

FINAL_MODEL_DIR = "model"

# Files of a checkpoint that are training state, not model: left out when a checkpoint's model is uploaded.
TRAINING_STATE_PATTERNS = [
    "_*",  # as the Trainer's own uploads
    "optimizer*",
    "scheduler.pt",
    "scaler.pt",
    "rng_state*",
    "collator_state_*",
    "trainer_state.json",
    "training_args.bin",
    "pytorch_model_fsdp_*",  # FSDP's sharded model: `accelerate merge-weights` makes it a model folder
]


def final_model_dir(output_dir: str | os.PathLike) -> str:
    """The final model folder of the run in `output_dir`."""
    return os.path.join(output_dir, FINAL_MODEL_DIR)


def refuse_run_folder(folder: str | os.PathLike, option: str) -> None:
    """FileNotFoundError naming `option` and the model folder inside when `folder` is a run's output_dir (no
    config.json, but a final model folder) given where a model folder is expected."""
    final = final_model_dir(folder)
    if not os.path.exists(os.path.join(folder, "config.json")) and os.path.isfile(os.path.join(final, "config.json")):
        raise FileNotFoundError(
            f"{option} {folder} is the output_dir of a training run, not a model folder: its final model is {final}"
        )


__all__ = ["FINAL_MODEL_DIR", "TRAINING_STATE_PATTERNS", "final_model_dir", "refuse_run_folder"]
