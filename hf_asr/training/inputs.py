"""Checks of what a training run is given, before any time is spent on it: each error names the input.

- `select_splits`: the splits a run uses: split expressions ("train+validation"), an eval split carved from train
  (`validation_fraction`), the first N utterances (`max_train_samples`, `max_eval_samples`).
- `training_splits`: the train (and eval) split exist and are not empty; an eval strategy has an eval split.
- `check_stream_steps`: a streamed corpus has no length: the run needs a positive max_steps.
- `check_step_count`, `check_training_args`: step counts that train something (0 would save an untrained model,
  -2 silently means epochs), batch sizes and accumulation steps of at least 1.
- `check_ctc_feasible`: transcripts fit their audio (CTC needs a frame per label and one between repeats): an
  error when none does (training would run on loss 0 and learn nothing), a warning naming how many when some do not.
- `check_resumable`: a checkpoint to resume from holds the optimizer state (without it the optimizer would
  silently start afresh, with a warm-up from a trained model), and the run asks for more steps than it has done.
- `load_pretrained`: a model/processor folder given by the user, named when it is neither there nor on the Hub (or
  is a run's output_dir, whose model is in output_dir/model).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import datasets
import torch
from transformers import TrainingArguments
from transformers.trainer import OPTIMIZER_NAME, OPTIMIZER_NAME_BIN, SCHEDULER_NAME, TRAINER_STATE_NAME
from transformers.trainer_callback import TrainerState

from ..data.features import DURATION_COLUMN
from ..data.splits import combine_splits, split_parts
from ..modeling.losses import ctc_required_frames
from ..modeling.value_rules import COUNT, NOT_NEGATIVE, OPEN_FRACTION, check_optional, check_value
from .run_folder import refuse_run_folder

logger = logging.getLogger(__name__)

EXAMPLES_NAMED = 3  # infeasible utterances listed in a message
_CHUNK = 1024  # utterances per vectorised feasibility check


def select_splits(
    corpus: datasets.Dataset | datasets.DatasetDict | datasets.IterableDataset | datasets.IterableDatasetDict,
    train_split: str = "train",
    eval_split: str | None = "validation",
    validation_fraction: float | None = None,
    seed: int = 0,
    max_train_samples: int | None = None,
    max_eval_samples: int | None = None,
    needs_eval: bool = False,
    where: str = "the corpus",
) -> datasets.Dataset | datasets.DatasetDict:
    """The splits a run uses, under the names it was given: {train_split: ..., eval_split: ...} (no eval split when
    there is none); the corpus' other splits are left out. A single Dataset stays one unless an eval split is carved.

    - `train_split`, `eval_split`: one split or "a+b", the splits concatenated (`hf_asr.data.splits`).
    - `validation_fraction`: when the corpus has no `eval_split`, that fraction of train becomes it
      (`train_test_split`, seeded with `seed`), logged; ignored with a warning when the corpus has one.
    - `max_train_samples`, `max_eval_samples`: only the first N utterances (`select(range(N))`, as transformers'
      run_speech_recognition_ctc.py, or `take(N)` of a stream), after the carving.
    Streams (IterableDatasetDict) are selected the same way, but cannot be carved: their length is unknown.
    CorpusError (a ValueError) naming `where` and the splits there for a missing split, or (with `needs_eval`: an
    eval strategy is on) for a missing eval split; ValueError for a bad number.
    """
    check_optional("validation_fraction", validation_fraction, OPEN_FRACTION)
    check_optional("max_train_samples", max_train_samples, COUNT)
    check_optional("max_eval_samples", max_eval_samples, COUNT)
    splits = isinstance(corpus, (datasets.DatasetDict, datasets.IterableDatasetDict))
    if splits:
        train = combine_splits(corpus, train_split, where)
        named = eval_split is not None and (eval_split in corpus or any(p in corpus for p in split_parts(eval_split)))
        evaluation = combine_splits(corpus, eval_split, where) if named else None
    else:
        train, evaluation = corpus, None
    if evaluation is not None and validation_fraction is not None:
        logger.warning("--validation_fraction is ignored: %s has the eval split %r", where, eval_split)
    elif evaluation is None and validation_fraction is not None:
        if eval_split is None:
            raise ValueError("validation_fraction carves an eval split from train, but eval_split is None: name it")
        if isinstance(train, datasets.IterableDataset):
            raise ValueError(
                f"validation_fraction cannot carve an eval split from a stream ({where} has no split {eval_split!r}):"
                " name an eval split with --eval_split, or train without --streaming"
            )
        train, evaluation = _carve(train, validation_fraction, seed, train_split, where)
        logger.info(
            "%s has no split %r: %d of the %d %r utterances (%g, seed %d) are held out as it",
            where, eval_split, len(evaluation), len(evaluation) + len(train), train_split, validation_fraction, seed,
        )  # fmt: skip
    elif evaluation is None and needs_eval and splits:
        raise _no_eval_split(corpus, eval_split, where)  # named here, while the splits there are all known
    if evaluation is not None and set(split_parts(train_split)) & set(split_parts(eval_split)):
        logger.warning(
            "the eval split %r is part of the train split %r: evaluation sees training data", eval_split, train_split
        )
    if max_train_samples is not None:
        train = _first(train, max_train_samples)
    if max_eval_samples is not None and evaluation is not None:
        evaluation = _first(evaluation, max_eval_samples)
    if evaluation is None and not splits:
        return train
    chosen = {train_split: train, **({eval_split: evaluation} if evaluation is not None else {})}
    if isinstance(train, datasets.IterableDataset):
        return datasets.IterableDatasetDict(chosen)
    return datasets.DatasetDict(chosen)


def _first(split: datasets.Dataset | datasets.IterableDataset, count: int) -> Any:
    if isinstance(split, datasets.IterableDataset):
        return split.take(count)
    return split.select(range(min(count, len(split))))


def _no_eval_split(corpus: datasets.DatasetDict, eval_split: str | None, where: str) -> ValueError:
    return ValueError(
        f"evaluation is on (eval_strategy) but {where} has no eval split {eval_split!r}; its splits are "
        f"{list(corpus)}: choose one with --eval_split, carve one from train with --validation_fraction, or "
        "set --eval_strategy no"
    )


def _carve(
    train: datasets.Dataset, fraction: float, seed: int, train_split: str, where: str
) -> tuple[datasets.Dataset, datasets.Dataset]:
    try:
        parts = train.train_test_split(test_size=fraction, seed=seed)
    except ValueError as error:  # too few utterances for one on either side
        raise ValueError(
            f"validation_fraction {fraction} of the {len(train)} {train_split!r} utterances of {where} leaves "
            f"nothing on one side ({error})"
        ) from error
    return parts["train"], parts["test"]


AnySplit = datasets.Dataset | datasets.IterableDataset


def training_splits(
    corpus: AnySplit | datasets.DatasetDict | datasets.IterableDatasetDict,
    train_split: str = "train",
    eval_split: str | None = "validation",
    needs_eval: bool = False,
    where: str = "the corpus",
) -> tuple[AnySplit, AnySplit | None]:
    """(train, eval or None) of `corpus`; a single Dataset (or stream) is all train.

    Raises ValueError naming `where` and the splits there when the train split is missing or empty, or when
    `needs_eval` (an eval strategy other than "no") and the eval split is missing or empty. Without `needs_eval` a
    missing eval split gives None. Streamed splits have no length: an empty one is found when it is read.
    """
    if not isinstance(corpus, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        if needs_eval:
            raise ValueError(
                f"{where} is a single dataset without splits, but evaluation is on (eval_strategy): give a "
                f"DatasetDict with a {eval_split!r} split, carve one from train with validation_fraction, or set "
                "eval_strategy to 'no'"
            )
        train, evaluation = corpus, None
    else:
        if train_split not in corpus:
            raise ValueError(f"{where} has no split {train_split!r} to train on; its splits are {list(corpus)}")
        train = corpus[train_split]
        evaluation = corpus[eval_split] if eval_split and eval_split in corpus else None
        if needs_eval and evaluation is None:
            raise _no_eval_split(corpus, eval_split, where)
    if isinstance(train, datasets.Dataset) and len(train) == 0:
        raise ValueError(f"the {train_split!r} split of {where} is empty: nothing to train on")
    if needs_eval and isinstance(evaluation, datasets.Dataset) and len(evaluation) == 0:
        raise ValueError(f"the eval split {eval_split!r} of {where} is empty: nothing to evaluate on")
    return train, evaluation


def check_stream_steps(train: AnySplit, args: TrainingArguments) -> None:
    """ValueError naming max_steps when `train` is a stream and `args.max_steps` is not a positive step count: a
    stream has no length, so num_train_epochs cannot be turned into steps (transformers refuses it too, later)."""
    if isinstance(train, datasets.IterableDataset) and args.max_steps <= 0:
        raise ValueError(
            f"a streamed corpus has no length: give --max_steps (max_steps=) a positive number of optimizer steps, "
            f"got {args.max_steps} (num_train_epochs cannot be turned into steps without it)"
        )


def needs_evaluation(args: TrainingArguments) -> bool:
    return str(getattr(args.eval_strategy, "value", args.eval_strategy)) != "no"


def check_step_count(max_steps: Any, name: str = "max_steps") -> int:
    """A step count given on its own (no TrainingArguments): a positive integer."""
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"{name} must be a positive number of optimizer steps, got {max_steps!r}")
    return max_steps


def check_training_args(args: TrainingArguments) -> None:
    """What TrainingArguments accept but cannot train with: max_steps 0 or below -1 (-1 is transformers' "train
    num_train_epochs epochs", then num_train_epochs must be > 0), batch sizes or gradient accumulation below 1 (a
    ZeroDivisionError deep in the Trainer), a negative or non-finite learning rate, a `report_to` integration that
    is not installed (`check_reporters`)."""
    for name in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps"):
        check_value(f"--{name}", getattr(args, name), COUNT)
    check_value("--learning_rate", args.learning_rate, NOT_NEGATIVE)
    check_reporters(args)
    if args.max_steps == 0 or args.max_steps < -1:
        raise ValueError(
            f"max_steps must be a positive number of optimizer steps, or -1 to train num_train_epochs epochs; "
            f"got {args.max_steps}"
        )
    if args.max_steps == -1 and not args.num_train_epochs > 0:
        raise ValueError(
            f"max_steps is -1 (train num_train_epochs epochs) but num_train_epochs is {args.num_train_epochs}: "
            "give a positive --max_steps or --num_train_epochs"
        )


# --report_to names -> (transformers' availability check in transformers.integrations, the packages it needs).
REPORTER_PACKAGES = {
    "tensorboard": ("is_tensorboard_available", "tensorboard"),
    "wandb": ("is_wandb_available", "wandb"),
    "mlflow": ("is_mlflow_available", "mlflow"),
    "comet_ml": ("is_comet_available", "comet_ml"),
    "neptune": ("is_neptune_available", "neptune"),
    "clearml": ("is_clearml_available", "clearml"),
    "codecarbon": ("is_codecarbon_available", "codecarbon"),
    "dvclive": ("is_dvclive_available", "dvclive"),
    "dagshub": ("is_dagshub_available", "dagshub"),
    "swanlab": ("is_swanlab_available", "swanlab"),
    "trackio": ("is_trackio_available", "trackio"),
    "azure_ml": ("is_azureml_available", "azureml-sdk"),
    "flyte": ("is_flytekit_available", "flytekit flytekitplugins-deck-standard"),
}
HF_ASR_EXTRAS = {"tensorboard"}  # reporters with an hf_asr extra (setup.py)


def check_reporters(args: TrainingArguments) -> None:
    """Each `report_to` integration is known and its package installed: ValueError naming it and what to pip
    install (the Trainer would fail only once it is built, after the features are computed)."""
    from transformers.integrations import integration_utils

    for name in args.report_to or []:
        if name not in integration_utils.INTEGRATION_TO_CALLBACK:
            known = sorted(integration_utils.INTEGRATION_TO_CALLBACK)
            raise ValueError(f"--report_to {name}: no such integration; choose from {known} (or none)")
        check, packages = REPORTER_PACKAGES.get(name, (None, None))
        if check is None or getattr(integration_utils, check)():
            continue
        extra = f" (or `pip install hf_asr[{name}]`)" if name in HF_ASR_EXTRAS else ""
        raise ValueError(f"--report_to {name} needs {packages}, not installed: `pip install {packages}`{extra}")


def check_resumable(checkpoint: str, args: TrainingArguments) -> int:
    """The step of `checkpoint`, checked to be one that this run can resume from and train on.

    FileNotFoundError naming `checkpoint` and the file when it lacks the optimizer, scheduler or trainer state
    (DeepSpeed keeps the optimizer in its own files, so only the plain Trainer layout is checked for it); ValueError
    naming both numbers when `args` asks for no more steps (or epochs) than the checkpoint has done: the Trainer
    would train 0 steps without a word.
    """
    if not os.path.isdir(checkpoint):
        raise FileNotFoundError(f"checkpoint to resume from {checkpoint} is not a folder")
    names = set(os.listdir(checkpoint))
    has_optimizer = bool({OPTIMIZER_NAME, OPTIMIZER_NAME_BIN} & names) or any(
        n.endswith(OPTIMIZER_NAME) or (n.startswith("optimizer") and os.path.isdir(os.path.join(checkpoint, n)))
        for n in names
    )
    needed = [(TRAINER_STATE_NAME in names, TRAINER_STATE_NAME)]
    if not getattr(args, "deepspeed", None):
        needed += [(has_optimizer, OPTIMIZER_NAME), (SCHEDULER_NAME in names, SCHEDULER_NAME)]
    for present, file in needed:
        if not present:
            raise FileNotFoundError(
                f"checkpoint {checkpoint} has no {file}: resuming would restart the optimizer and learning-rate "
                "schedule from scratch. Start from its weights instead (--init_from / init_from=) or resume from a "
                "complete checkpoint"
            )
    state = TrainerState.load_from_json(os.path.join(checkpoint, TRAINER_STATE_NAME))
    where = f"{checkpoint}, the checkpoint to resume from,"
    left = "nothing is left to train. Ask for more, or start over (another output_dir, or --auto_resume false)"
    if args.max_steps > 0 and args.max_steps <= state.global_step:
        raise ValueError(f"max_steps is {args.max_steps} but {where} is at step {state.global_step}: {left}")
    if args.max_steps <= 0 and state.epoch is not None and args.num_train_epochs <= state.epoch:
        raise ValueError(
            f"num_train_epochs is {args.num_train_epochs:g} but {where} is at epoch {state.epoch:g} (step "
            f"{state.global_step}): {left}"
        )
    return state.global_step


def check_ctc_feasible(
    train: datasets.Dataset, feature_extractor: Any, logit_lengths: Any, split: str = "train"
) -> None:
    """Check that the `labels` of a prepared split fit its audio under CTC (frames >= labels + adjacent repeats).

    Frames come from the `duration` column (or the `input_features` rows) through the feature extractor's
    `num_frames` and the model's `logit_lengths`. Raises ValueError when no utterance fits, naming how many and
    the first ones; logs a warning naming how many when only some do not (those are skipped in training).
    A stream is not checked (that would read it all): the CTC trainer skips and counts such utterances.
    """
    if not isinstance(train, datasets.Dataset) or "labels" not in train.column_names:
        return
    labels = train.select_columns(["labels"])["labels"]
    mel_frames = _mel_frames(train, feature_extractor)
    if mel_frames is None:
        return
    infeasible: list[tuple[int, int, int, int]] = []  # (index, labels, frames needed, frames there)
    for start in range(0, len(labels), _CHUNK):
        rows = [torch.as_tensor(row, dtype=torch.long).reshape(-1) for row in labels[start : start + _CHUNK]]
        padded = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True, padding_value=-100)
        if padded.shape[1] == 0:
            continue  # all empty here: an empty transcript always fits
        needed = ctc_required_frames(padded)
        frames = torch.as_tensor(logit_lengths(torch.as_tensor(mel_frames[start : start + _CHUNK]))).long()
        for offset in (frames < needed).nonzero().flatten().tolist():
            infeasible.append((start + offset, len(rows[offset]), int(needed[offset]), int(frames[offset])))
    if not infeasible:
        return
    listed = "; ".join(
        f"utterance {i}: {n} labels need {need} frames, its audio gives {have}"
        for i, n, need, have in infeasible[:EXAMPLES_NAMED]
    )
    summary = (
        f"{len(infeasible)} of {len(labels)} utterances of the {split!r} split have transcripts longer than their "
        f"audio allows under CTC (a frame per character, one more between repeated characters): {listed}"
    )
    if len(infeasible) == len(labels):
        raise ValueError(
            f"{summary}. Nothing could be learnt: check that the transcripts belong to the audio, or use a model "
            "with less downsampling (conv_stride) or more ctc_upsampling"
        )
    logger.warning("%s. They are skipped in training.", summary)


def load_pretrained(cls: Any, source: str | os.PathLike, option: str = "init_from", **kwargs: Any) -> Any:
    """`cls.from_pretrained(source)`; when `source` is no local folder and cannot be loaded from the Hub either,
    FileNotFoundError naming `option` and `source` (instead of the Hub client's repo-id or connection error).

    A folder that is there but unusable keeps the loader's own error.
    """
    try:
        return cls.from_pretrained(str(source), **kwargs)
    except (OSError, ValueError) as error:
        if os.path.isdir(source):
            refuse_run_folder(source, option)
            raise
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise FileNotFoundError(
            f"{option} {str(source)!r} is not a local folder, and loading it from the Hub failed: {first_line}"
        ) from error


def _mel_frames(train: datasets.Dataset, feature_extractor: Any) -> list[int] | None:
    """Log-mel frames of each utterance: from the durations, else from the feature rows; None if neither."""
    if DURATION_COLUMN in train.column_names:
        rate = feature_extractor.sampling_rate
        durations = train.select_columns([DURATION_COLUMN])[DURATION_COLUMN]
        return [feature_extractor.num_frames(round(seconds * rate)) for seconds in durations]
    if "input_features" in train.column_names:
        features = train.select_columns(["input_features"]).with_format("numpy")
        return [len(row["input_features"]) for row in features]
    return None


__all__ = [
    "select_splits",
    "training_splits",
    "needs_evaluation",
    "check_stream_steps",
    "check_step_count",
    "check_training_args",
    "check_reporters",
    "check_resumable",
    "check_ctc_feasible",
    "load_pretrained",
]
