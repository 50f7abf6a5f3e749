"""Library entry points for pretraining and fine-tuning: thin layers over the trainers, used by the CLI and the demo.

    model, history = pretrain(corpus, LogMelWav2Vec2Config.tiny(), "out/pretrain", max_steps=200, device="cpu")
    model, history = finetune(corpus, processor, "out/pretrain", "out/ctc", max_steps=500, device="cpu")

`corpus` is a `datasets` Dataset or DatasetDict (train split "train", eval split "validation") with an audio column
(decoded to {"array", "sampling_rate"}) and, for fine-tuning, a text column; or one already passed through
`prepare_dataset` (columns input_features, duration[, labels]).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import datasets
import numpy as np
from transformers import TrainingArguments, set_seed

from ..modeling.configuration import LogMelWav2Vec2Config
from ..modeling.feature_extraction import LogMelFeatureExtractor
from ..modeling.model import LogMelWav2Vec2ForCTC, LogMelWav2Vec2ForPreTraining
from .base import DURATION_COLUMN
from .callbacks import CodebookCollapseCallback, GumbelTemperatureCallback
from .collators import DataCollatorCTC, DataCollatorPretraining
from .ctc_trainer import CTCTrainer
from .metrics import make_compute_metrics
from .pretraining_trainer import PretrainingTrainer

logger = logging.getLogger(__name__)

AnyCorpus = datasets.Dataset | datasets.DatasetDict


# ---- data --------------------------------------------------------------------------------------------------------
def audio_array(value: Any) -> tuple[np.ndarray, int | None]:
    """An audio cell ({"array", "sampling_rate"} dict, torchcodec AudioDecoder, or bare array) -> (samples, rate)."""
    if hasattr(value, "get_all_samples"):
        samples = value.get_all_samples()
        return samples.data.numpy().mean(0).astype(np.float32), int(samples.sample_rate)
    if isinstance(value, dict) or hasattr(value, "__getitem__") and not isinstance(value, (np.ndarray, list)):
        return np.asarray(value["array"], dtype=np.float32), int(value["sampling_rate"])
    return np.asarray(value, dtype=np.float32), None


def prepare_dataset(
    corpus: AnyCorpus,
    feature_extractor: Any,
    tokenizer: Any | None = None,
    audio_column: str = "audio",
    text_column: str = "text",
    normalize_text: bool = True,
    max_seconds: float | None = None,
    num_proc: int | None = None,
) -> AnyCorpus:
    """Audio -> `input_features` (T_mel, n_mels) and `duration` (s); text -> `labels` (with a tokenizer).

    Other columns are dropped. With `normalize_text`, transcripts go through `hf_asr.data.text.normalize_transcript`
    first (the CTC tokenizer silently maps unknown characters to <unk>). `max_seconds` drops longer utterances.
    Already prepared corpora (with `input_features`) are returned as they are.
    """
    if isinstance(corpus, datasets.DatasetDict):
        return datasets.DatasetDict({
            name: prepare_dataset(split, feature_extractor, tokenizer, audio_column, text_column, normalize_text,
                                  max_seconds, num_proc)
            for name, split in corpus.items()
        })
    if "input_features" in corpus.column_names:
        if tokenizer is not None and "labels" not in corpus.column_names:
            raise ValueError("the corpus has input_features but no labels: prepare it again with its text column")
        return corpus
    if audio_column not in corpus.column_names:
        raise ValueError(f"no audio column {audio_column!r} in the corpus; its columns are {corpus.column_names}")
    if tokenizer is not None and text_column not in corpus.column_names:
        raise ValueError(f"no text column {text_column!r} in the corpus; its columns are {corpus.column_names}")
    normalize = _normalizer() if normalize_text else (lambda text: text)
    rate = feature_extractor.sampling_rate

    def convert(batch: dict[str, list]) -> dict[str, list]:
        arrays = []
        for value in batch[audio_column]:
            array, sampling_rate = audio_array(value)
            if sampling_rate is not None and sampling_rate != rate:
                raise ValueError(
                    f"audio at {sampling_rate} Hz, the feature extractor expects {rate} Hz: load the corpus with "
                    "hf_asr.data.loading.load_corpus (resamples) or cast_column(Audio(sampling_rate=...))"
                )
            arrays.append(array)
        features = feature_extractor(arrays, sampling_rate=rate, padding=False)["input_features"]
        out = {"input_features": [np.asarray(f, dtype=np.float32) for f in features],
               DURATION_COLUMN: [len(a) / rate for a in arrays]}
        if tokenizer is not None:
            out["labels"] = [tokenizer(normalize(text)).input_ids for text in batch[text_column]]
        return out

    # Array2D: read in numpy format (the trainers' loaders do), a (T, n_mels) row comes back as one array (~1 ms
    # for 15 s of audio) instead of nested lists (~9 ms), which was most of the data loader's time per GPU step.
    columns = {
        "input_features": datasets.Array2D(shape=(None, feature_extractor.feature_size), dtype="float32"),
        DURATION_COLUMN: datasets.Value("float64"),
    }
    if tokenizer is not None:
        columns["labels"] = datasets.List(datasets.Value("int64"))
    prepared = corpus.map(convert, batched=True, batch_size=32, remove_columns=corpus.column_names,
                          features=datasets.Features(columns), num_proc=num_proc, desc="log-mel features")
    if max_seconds:
        prepared = prepared.filter(lambda d: d <= max_seconds, input_columns=DURATION_COLUMN)
    return prepared


def _normalizer() -> Any:
    try:
        from ..data.text import normalize_transcript
    except ImportError:  # pragma: no cover - the data module ships with the package
        return lambda text: " ".join(text.lower().split())
    return normalize_transcript


def split_corpus(corpus: AnyCorpus, train_split: str = "train",
                 eval_split: str | None = "validation") -> tuple[datasets.Dataset, datasets.Dataset | None]:
    if isinstance(corpus, datasets.DatasetDict):
        if train_split not in corpus:
            raise ValueError(f"the corpus has no split {train_split!r}; its splits are {list(corpus)}")
        return corpus[train_split], corpus[eval_split] if eval_split and eval_split in corpus else None
    return corpus, None


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
    training_args: TrainingArguments | None = None,
    **training_kwargs: Any,
) -> tuple[LogMelWav2Vec2ForPreTraining, list[dict[str, float]]]:
    """Contrastive pretraining of a log-mel wav2vec 2.0 model; returns (model, trainer log history).

    config: the model to build (default `LogMelWav2Vec2Config.tiny()`); ignored with `init_from` (a folder or a
        model to continue from). Masking defaults to the config's mask_time_prob / mask_time_length /
        num_negatives; the diversity weight and Gumbel schedule are config fields.
    max_seconds_per_batch: batch by total audio seconds (per device) instead of `per_device_batch_size`.
    resume_from_checkpoint: a checkpoint folder, or True/"auto" for the last one in `output_dir`.
    training_args: full TrainingArguments (then output_dir, max_steps, learning_rate, ... here are ignored);
        otherwise they are built by `make_training_args` with `training_kwargs` as extra fields.
    The final model and feature extractor are saved in `output_dir` (`from_pretrained`-ready).
    """
    feature_extractor = feature_extractor or LogMelFeatureExtractor()
    args = training_args or make_training_args(
        output_dir, max_steps, per_device_batch_size, learning_rate, logging_steps=logging_steps,
        save_steps=save_steps, eval_steps=eval_steps, seed=seed, device=device, **training_kwargs
    )
    set_seed(args.seed)
    if init_from is None:
        model = LogMelWav2Vec2ForPreTraining(config or LogMelWav2Vec2Config.tiny())
    elif isinstance(init_from, LogMelWav2Vec2ForPreTraining):
        model = init_from
    else:
        model = LogMelWav2Vec2ForPreTraining.from_pretrained(str(init_from))
    config = model.config
    prepared = prepare_dataset(corpus, feature_extractor, audio_column=audio_column)
    train, evaluation = split_corpus(prepared, train_split, eval_split)
    overrides = {k: v for k, v in dict(mask_prob=mask_prob, span_length=span_length,
                                       num_negatives=num_negatives).items() if v is not None}
    collator = DataCollatorPretraining.from_config(config, seed=args.seed, feature_extractor=feature_extractor,
                                                   **overrides)
    collapse = CodebookCollapseCallback(config.num_codevector_groups, collator.num_negatives,
                                        patience=collapse_patience)
    trainer = PretrainingTrainer(
        model=model,
        args=args,
        data_collator=collator,
        train_dataset=train,
        eval_dataset=evaluation if args.eval_strategy != "no" else None,
        processing_class=feature_extractor,
        callbacks=[GumbelTemperatureCallback(), collapse, *callbacks],
        max_seconds_per_batch=max_seconds_per_batch,
    )
    trainer.train(resume_from_checkpoint=resume_from_checkpoint)
    _save_final(trainer, feature_extractor)
    return trainer.model, trainer.state.log_history


# ---- fine-tuning -------------------------------------------------------------------------------------------------
def _config_with(config: LogMelWav2Vec2Config, overrides: dict[str, Any]) -> LogMelWav2Vec2Config:
    """A new config: `config`'s fields with `overrides`, without the keys save/load adds (model_type, ...)."""
    fields = {**config.to_dict(), **overrides}
    for key in ("model_type", "transformers_version", "architectures", "auto_map"):
        fields.pop(key, None)
    return LogMelWav2Vec2Config(**fields)


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
        return LogMelWav2Vec2ForCTC(_config_with(config or LogMelWav2Vec2Config.tiny(), head))
    if isinstance(init_from, LogMelWav2Vec2ForCTC):
        if init_from.config.vocab_size != head["vocab_size"]:
            raise ValueError(f"the model's CTC head has {init_from.config.vocab_size} outputs but the tokenizer "
                             f"{head['vocab_size']} tokens: start from its encoder (a pretraining model or folder)")
        for key, value in config_overrides.items():
            setattr(init_from.config, key, value)
        return init_from
    if hasattr(init_from, "wav2vec2"):  # a pretraining model object
        model = LogMelWav2Vec2ForCTC(_config_with(init_from.config, head))
        model.wav2vec2.load_state_dict(init_from.wav2vec2.state_dict())
        return model
    return LogMelWav2Vec2ForCTC.from_pretrained(str(init_from), **head)


def finetune(
    corpus: AnyCorpus,
    processor: Any,
    init_from: str | os.PathLike | Any | None = None,
    output_dir: str = "ctc_output",
    max_steps: int = 1000,
    *,
    config: LogMelWav2Vec2Config | None = None,
    freeze_feature_encoder: bool = True,
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
    training_args: TrainingArguments | None = None,
    **training_kwargs: Any,
) -> tuple[LogMelWav2Vec2ForCTC, list[dict[str, float]]]:
    """CTC fine-tuning; returns (model, trainer log history). Evaluation (every `eval_steps`) reports WER/CER.

    processor: a `LogMelWav2Vec2Processor` (its tokenizer fixes the CTC head: vocab_size, blank = pad id).
    init_from: None (new model from `config`, default tiny), a pretrained/fine-tuned folder, or a model object.
    freeze_feature_encoder: keep the conv feature encoder fixed (usual on top of a pretrained encoder).
    mask_time_prob / mask_feature_prob: SpecAugment during fine-tuning (None keeps the config's values).
    Other arguments as in `pretrain`. Checkpoints and the final folder hold the model and the processor.
    """
    args = training_args or make_training_args(
        output_dir, max_steps, per_device_batch_size, learning_rate, logging_steps=logging_steps,
        save_steps=save_steps, eval_steps=eval_steps, seed=seed, device=device, **training_kwargs
    )
    set_seed(args.seed)
    overrides = {k: v for k, v in dict(mask_time_prob=mask_time_prob, mask_feature_prob=mask_feature_prob).items()
                 if v is not None}
    model = load_ctc_model(init_from, processor.tokenizer, config, **overrides)
    if freeze_feature_encoder:
        model.freeze_feature_encoder()
    config = model.config
    if not (config.apply_spec_augment and config.mask_time_prob > 0):
        # Never used without time masking: a trainable parameter without gradient breaks DDP when
        # find_unused_parameters is off (the Trainer turns it off with activation checkpointing).
        model.wav2vec2.masked_spec_embed.requires_grad_(False)
    prepared = prepare_dataset(corpus, processor.feature_extractor, processor.tokenizer,
                               audio_column=audio_column, text_column=text_column)
    train, evaluation = split_corpus(prepared, train_split, eval_split)
    trainer = CTCTrainer(
        model=model,
        args=args,
        data_collator=DataCollatorCTC(processor),
        train_dataset=train,
        eval_dataset=evaluation if args.eval_strategy != "no" else None,
        processing_class=processor,
        compute_metrics=make_compute_metrics(processor),
        callbacks=list(callbacks),
        max_seconds_per_batch=max_seconds_per_batch,
    )
    trainer.train(resume_from_checkpoint=resume_from_checkpoint)
    _save_final(trainer, processor)
    return trainer.model, trainer.state.log_history


def _save_final(trainer: Any, processing: Any) -> None:
    trainer.save_model(trainer.args.output_dir)
    if trainer.args.should_save:
        processing.save_pretrained(trainer.args.output_dir)


__all__ = ["pretrain", "finetune", "prepare_dataset", "make_training_args", "load_ctc_model", "audio_array"]
