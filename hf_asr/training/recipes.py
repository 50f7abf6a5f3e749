"""Library entry points for pretraining and fine-tuning: thin layers over the trainers, used by the CLI and the demo.

    model, history = pretrain(corpus, LogMelWav2Vec2Config.tiny(), "out/pretrain", max_steps=200, device="cpu")
    model, history = finetune(corpus, processor, "out/pretrain/model", "out/ctc", max_steps=500, device="cpu")

`corpus` is a `datasets` Dataset or DatasetDict (train split "train", eval split "validation") with an audio column
and, for fine-tuning, a text column; or one already passed through `hf_asr.data.features.prepare_dataset`.
A streamed corpus (IterableDataset or IterableDatasetDict, e.g. `load_corpus(..., streaming=True)`) is prepared as
it is read and needs `max_steps`; see `hf_asr.training.streams` for how processes share it and evaluate on it.
With `augmentation` (an `AugmentationSettings`), training batches are augmented (seeded); when its waveform steps
are on, features are computed per batch from the augmented audio.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import datasets
from transformers import TrainingArguments, set_seed

from ..data.augmentation import AugmentationSettings, needs_raw_audio
from ..data.features import prepare_dataset
from ..modeling.configuration import LogMelWav2Vec2Config
from ..modeling.feature_extraction import LogMelFeatureExtractor
from ..modeling.model import LogMelWav2Vec2ForCTC, LogMelWav2Vec2ForPreTraining
from .base import check_resume
from .callbacks import CodebookCollapseCallback, FrozenBaseModelCallback, GumbelTemperatureCallback
from .collators import DataCollatorCTC, DataCollatorPretraining
from .ctc_trainer import CTCTrainer
from .inputs import (
    check_ctc_feasible,
    check_step_count,
    check_stream_steps,
    check_training_args,
    load_pretrained,
    needs_evaluation,
    training_splits,
)
from .metrics import make_compute_metrics
from .model_card import ctc_model_card, pretraining_model_card
from .pretraining_trainer import PretrainingTrainer
from .run_folder import final_model_dir
from .time_budget import TimeBudget

logger = logging.getLogger(__name__)

AnyCorpus = datasets.Dataset | datasets.DatasetDict | datasets.IterableDataset | datasets.IterableDatasetDict


# ---- arguments ---------------------------------------------------------------------------------------------------
def make_training_args(
    output_dir: str,
    max_steps: int,
    per_device_batch_size: int = 8,
    learning_rate: float = 1e-4,
    warmup_steps: int | None = None,
    logging_steps: int = 10,
    save_steps: int | None = None,
    eval_steps: int | None = None,
    seed: int = 0,
    device: str | None = None,
    **overrides: Any,
) -> TrainingArguments:
    """TrainingArguments with hf_asr's defaults (no reporters, constant checkpoints every `save_steps`).

    `device="cpu"` forces the CPU; None uses the accelerator when there is one. `overrides` are any other
    TrainingArguments fields (gradient_accumulation_steps, bf16, ...).
    """
    settings: dict[str, Any] = dict(
        output_dir=output_dir,
        max_steps=max_steps,
        per_device_train_batch_size=per_device_batch_size,
        per_device_eval_batch_size=per_device_batch_size,
        learning_rate=learning_rate,
        warmup_steps=warmup_steps if warmup_steps is not None else max(1, max_steps // 10),
        logging_steps=logging_steps,
        save_strategy="steps" if save_steps else "no",
        save_steps=save_steps or 500,
        eval_strategy="steps" if eval_steps else "no",
        eval_steps=eval_steps,
        seed=seed,
        data_seed=seed,
        report_to="none",
        use_cpu=device == "cpu",
    )
    settings.update(overrides)
    return TrainingArguments(**settings)


def _run_arguments(
    training_args: TrainingArguments | None,
    splits: tuple[Any, str, str | None],
    resume_from_checkpoint: str | bool | None,
    *args: Any,
    **settings: Any,
) -> TrainingArguments:
    """The run's TrainingArguments (given, or `make_training_args(*args, **settings)`), checked with the corpus
    splits (corpus, train split, eval split) and the checkpoint to resume from before any feature is computed;
    then the seed is set."""
    if training_args is None:
        check_step_count(args[1])
        training_args = make_training_args(*args, **settings)
    check_training_args(training_args)
    train, _ = training_splits(*splits, needs_evaluation(training_args))
    check_stream_steps(train, training_args)
    check_resume(resume_from_checkpoint, training_args)
    set_seed(training_args.seed)
    return training_args


# ---- pretraining -------------------------------------------------------------------------------------------------
def pretrain(
    corpus: AnyCorpus,
    config: LogMelWav2Vec2Config | None = None,
    output_dir: str = "pretrain_output",
    max_steps: int = 1000,
    *,
    init_from: str | LogMelWav2Vec2ForPreTraining | None = None,
    feature_extractor: LogMelFeatureExtractor | None = None,
    per_device_batch_size: int = 8,
    learning_rate: float = 5e-4,
    max_seconds_per_batch: float | None = None,
    mask_prob: float | None = None,
    span_length: int | None = None,
    num_negatives: int | None = None,
    collapse_patience: int = 20,
    logging_steps: int = 10,
    save_steps: int | None = None,
    eval_steps: int | None = None,
    seed: int = 0,
    device: str | None = None,
    resume_from_checkpoint: str | bool | None = None,
    callbacks: Sequence[Any] = (),
    audio_column: str = "audio",
    train_split: str = "train",
    eval_split: str | None = "validation",
    augmentation: AugmentationSettings | None = None,
    time_budget: TimeBudget | None = None,
    shuffle_buffer_size: int = 1000,
    training_args: TrainingArguments | None = None,
    **training_kwargs: Any,
) -> tuple[LogMelWav2Vec2ForPreTraining, list[dict[str, float]]]:
    """Contrastive pretraining of a log-mel wav2vec 2.0 model; returns (model, trainer log history).

    config: the model to build (default `LogMelWav2Vec2Config.tiny()`); ignored with `init_from` (a folder or a
        model to continue from). Masking defaults to the config's mask_time_prob / mask_time_length /
        num_negatives; the diversity weight and Gumbel schedule are config fields.
    max_seconds_per_batch: batch by total audio seconds (per device) instead of `per_device_batch_size`.
    augmentation: seeded augmentation of training batches (with waveform steps, features are computed per batch).
    time_budget: a `TimeBudget`: the learning rate follows elapsed time too, and training stops when it is spent.
    shuffle_buffer_size: with a streamed corpus and `max_seconds_per_batch`, examples read at a time, sorted by
        duration and packed into batches, whose order is then shuffled (more: less padding, more memory).
    resume_from_checkpoint: a checkpoint folder, or True/"auto" for the last one in `output_dir`.
    training_args: full TrainingArguments (then output_dir, max_steps, learning_rate, ... here are ignored);
        otherwise they are built by `make_training_args` with `training_kwargs` as extra fields.
    `output_dir` is laid out as `run_folder` says: the final model folder (model, feature extractor, model card) is
    `output_dir/model` (`from_pretrained`-ready), next to the checkpoints and the run's metrics (all_results.json).
    """
    feature_extractor = feature_extractor or LogMelFeatureExtractor()
    args = _run_arguments(
        training_args,
        (corpus, train_split, eval_split),
        resume_from_checkpoint,
        output_dir,
        max_steps,
        per_device_batch_size,
        learning_rate,
        logging_steps=logging_steps,
        save_steps=save_steps,
        eval_steps=eval_steps,
        seed=seed,
        device=device,
        **training_kwargs,
    )
    if init_from is None:
        model = LogMelWav2Vec2ForPreTraining(config or LogMelWav2Vec2Config.tiny())
    elif isinstance(init_from, LogMelWav2Vec2ForPreTraining):
        model = init_from
    else:
        model = load_pretrained(LogMelWav2Vec2ForPreTraining, init_from)
    config = model.config
    prepared = prepare_dataset(
        corpus, feature_extractor, audio_column=audio_column, precompute_features=not needs_raw_audio(augmentation)
    )
    train, evaluation = training_splits(prepared, train_split, eval_split, needs_evaluation(args))
    overrides = {
        k: v
        for k, v in dict(mask_prob=mask_prob, span_length=span_length, num_negatives=num_negatives).items()
        if v is not None
    }
    collator = DataCollatorPretraining.from_model(
        model, seed=args.seed, feature_extractor=feature_extractor, augmentation=augmentation, **overrides
    )
    collapse = CodebookCollapseCallback(
        config.num_codevector_groups, collator.num_negatives, patience=collapse_patience
    )
    trainer = PretrainingTrainer(
        model=model,
        args=args,
        data_collator=collator,
        train_dataset=train,
        eval_dataset=evaluation if args.eval_strategy != "no" else None,
        processing_class=feature_extractor,
        callbacks=[GumbelTemperatureCallback(), collapse, *callbacks],
        max_seconds_per_batch=max_seconds_per_batch,
        time_budget=time_budget,
        shuffle_buffer_size=shuffle_buffer_size,
    )
    output = trainer.train(resume_from_checkpoint=resume_from_checkpoint)
    train_metrics, eval_metrics = _final_metrics(trainer, output, train, evaluation)
    card = pretraining_model_card(config, _source_name(init_from), train_split, train_metrics, eval_metrics, eval_split)
    trainer.save_final_model(final_model_dir(args.output_dir), {"README.md": card})
    return trainer.model, trainer.state.log_history


# ---- fine-tuning -------------------------------------------------------------------------------------------------
def load_ctc_model(
    init_from: str | os.PathLike | Any | None,
    tokenizer: Any,
    config: LogMelWav2Vec2Config | None = None,
    **config_overrides: Any,
) -> LogMelWav2Vec2ForCTC:
    """A CTC model whose head matches `tokenizer`: new (from `config`, default tiny), from a pretrained or
    fine-tuned folder, or from a model object (a pretraining model's encoder is copied into a new CTC model)."""
    head = dict(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **config_overrides)
    if init_from is None:
        return LogMelWav2Vec2ForCTC((config or LogMelWav2Vec2Config.tiny()).replace(**head))
    if isinstance(init_from, LogMelWav2Vec2ForCTC):
        if init_from.config.vocab_size != head["vocab_size"]:
            raise ValueError(
                f"the model's CTC head has {init_from.config.vocab_size} outputs but the tokenizer "
                f"{head['vocab_size']} tokens: start from its encoder (a pretraining model or folder)"
            )
        for key, value in config_overrides.items():
            setattr(init_from.config, key, value)
        return init_from
    if hasattr(init_from, "wav2vec2"):  # a pretraining model object
        model = LogMelWav2Vec2ForCTC(init_from.config.replace(**head))
        model.wav2vec2.load_state_dict(init_from.wav2vec2.state_dict())
        return model
    return load_pretrained(LogMelWav2Vec2ForCTC, init_from, **head)


def finetune(
    corpus: AnyCorpus,
    processor: Any,
    init_from: str | os.PathLike | Any | None = None,
    output_dir: str = "ctc_output",
    max_steps: int = 1000,
    *,
    config: LogMelWav2Vec2Config | None = None,
    freeze_feature_encoder: bool | None = None,
    freeze_base_model_fraction: float = 0.0,
    mask_time_prob: float | None = None,
    mask_feature_prob: float | None = None,
    per_device_batch_size: int = 8,
    learning_rate: float = 1e-4,
    max_seconds_per_batch: float | None = None,
    logging_steps: int = 10,
    save_steps: int | None = None,
    eval_steps: int | None = None,
    seed: int = 0,
    device: str | None = None,
    resume_from_checkpoint: str | bool | None = None,
    callbacks: Sequence[Any] = (),
    audio_column: str = "audio",
    text_column: str = "text",
    train_split: str = "train",
    eval_split: str | None = "validation",
    augmentation: AugmentationSettings | None = None,
    time_budget: TimeBudget | None = None,
    shuffle_buffer_size: int = 1000,
    training_args: TrainingArguments | None = None,
    **training_kwargs: Any,
) -> tuple[LogMelWav2Vec2ForCTC, list[dict[str, float]]]:
    """CTC fine-tuning; returns (model, trainer log history). Evaluation (every `eval_steps`) reports WER/CER.

    processor: a `LogMelWav2Vec2Processor` (its tokenizer fixes the CTC head: vocab_size, blank = pad id).
    init_from: None (new model from `config`, default tiny), a pretrained/fine-tuned folder, or a model object.
    freeze_feature_encoder: keep the conv feature encoder fixed; None (default): with `init_from` only (usual on
        top of a pretrained encoder; a new model must train its encoder).
    freeze_base_model_fraction: train the CTC head alone for this first fraction of training (of the steps, or of
        the time budget), then the whole model (wav2vec 2.0's freeze_finetune_updates; 0: never).
    mask_time_prob / mask_feature_prob: SpecAugment during fine-tuning (None keeps the config's values).
    Other arguments as in `pretrain`. Checkpoints and the final folder (`output_dir/model`, with a model card
    holding the final eval WER/CER) hold the model and the processor.
    Raises ValueError before training when a split is missing or empty, or no transcript fits its audio (see
    `hf_asr.training.inputs`).
    """
    head_first = FrozenBaseModelCallback(freeze_base_model_fraction, time_budget)  # checks the fraction first
    args = _run_arguments(
        training_args,
        (corpus, train_split, eval_split),
        resume_from_checkpoint,
        output_dir,
        max_steps,
        per_device_batch_size,
        learning_rate,
        logging_steps=logging_steps,
        save_steps=save_steps,
        eval_steps=eval_steps,
        seed=seed,
        device=device,
        **training_kwargs,
    )
    model = load_ctc_model(init_from, processor.tokenizer, config)
    model.set_spec_augment(mask_time_prob, mask_feature_prob)
    if freeze_feature_encoder or (freeze_feature_encoder is None and init_from is not None):
        model.freeze_feature_encoder()
    prepared = prepare_dataset(
        corpus,
        processor.feature_extractor,
        processor.tokenizer,
        audio_column=audio_column,
        text_column=text_column,
        normalize_text=getattr(processor, "text_normalizer", True),
        precompute_features=not needs_raw_audio(augmentation),
    )
    train, evaluation = training_splits(prepared, train_split, eval_split, needs_evaluation(args))
    check_ctc_feasible(train, processor.feature_extractor, model.logit_lengths, train_split)
    trainer = CTCTrainer(
        model=model,
        args=args,
        data_collator=DataCollatorCTC(processor, augmentation=augmentation, seed=args.seed),
        train_dataset=train,
        eval_dataset=evaluation if args.eval_strategy != "no" else None,
        processing_class=processor,
        compute_metrics=make_compute_metrics(processor),
        callbacks=list(callbacks),
        max_seconds_per_batch=max_seconds_per_batch,
        time_budget=time_budget,
        shuffle_buffer_size=shuffle_buffer_size,
    )
    if freeze_base_model_fraction > 0:
        trainer.add_callback(head_first)
    output = trainer.train(resume_from_checkpoint=resume_from_checkpoint)
    train_metrics, eval_metrics = _final_metrics(trainer, output, train, evaluation)
    has_lm = getattr(processor, "decoder", None) is not None
    card = ctc_model_card(
        model.config, _source_name(init_from), train_split, train_metrics, eval_metrics, eval_split, has_lm
    )
    trainer.save_final_model(final_model_dir(args.output_dir), {"README.md": card})
    return trainer.model, trainer.state.log_history


# ---- what a run leaves in output_dir (see run_folder) -------------------------------------------------------------
def _final_metrics(
    trainer: Any, output: Any, train: Any, evaluation: Any
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(train metrics, final eval metrics or None without an eval split), logged and written to output_dir as
    transformers' example scripts do (train_results.json, eval_results.json, all_results.json, trainer_state.json).

    The eval metrics are those of an evaluation at the last step when there was one, else a new evaluation."""
    train_metrics = {**output.metrics, "global_step": output.global_step}
    if hasattr(train, "__len__"):
        train_metrics["train_samples"] = len(train)
    trainer.log_metrics("train", train_metrics)
    trainer.save_metrics("train", train_metrics)
    trainer.save_state()
    if evaluation is None:
        return train_metrics, None
    last = [h for h in trainer.state.log_history if "eval_loss" in h and h.get("step") == trainer.state.global_step]
    if last:
        eval_metrics = {k: v for k, v in last[-1].items() if k != "step"}
    else:
        eval_metrics = trainer.evaluate(eval_dataset=evaluation)
    if hasattr(evaluation, "__len__"):
        eval_metrics["eval_samples"] = len(evaluation)
    trainer.log_metrics("eval", eval_metrics)
    trainer.save_metrics("eval", eval_metrics)
    return train_metrics, eval_metrics


def _source_name(init_from: Any) -> str | None:
    """What a run started from, for its model card: a folder or Hub name, a model object's name_or_path, or None."""
    if init_from is None or isinstance(init_from, (str, os.PathLike)):
        return None if init_from is None else str(init_from)
    return getattr(init_from, "name_or_path", None) or "a model object"


__all__ = ["pretrain", "finetune", "make_training_args", "load_ctc_model"]
