"""Training: collators, CTC and pretraining trainers, callbacks, and the `pretrain` / `finetune` recipes."""

from ..data.features import prepare_dataset
from .base import resolve_checkpoint
from .callbacks import CodebookCollapseCallback, GumbelTemperatureCallback
from .collators import DataCollatorCTC, DataCollatorPretraining
from .ctc_trainer import CTCTrainer, ctc_required_frames
from .metrics import make_compute_metrics
from .pretraining_trainer import PretrainingTrainer
from .recipes import finetune, load_ctc_model, make_training_args, pretrain
from .run_folder import final_model_dir

__all__ = [
    "CTCTrainer",
    "PretrainingTrainer",
    "DataCollatorCTC",
    "DataCollatorPretraining",
    "GumbelTemperatureCallback",
    "CodebookCollapseCallback",
    "ctc_required_frames",
    "make_compute_metrics",
    "resolve_checkpoint",
    "pretrain",
    "finetune",
    "prepare_dataset",
    "load_ctc_model",
    "make_training_args",
    "final_model_dir",
]
