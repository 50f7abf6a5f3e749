"""`hf-asr pretrain` and `hf-asr finetune`: hf_asr options + every `TrainingArguments` field, over the recipes.

    hf-asr pretrain --corpus data/corpus --output_dir out/pretrain --max_steps 2000 --preset tiny
    hf-asr finetune --corpus data/corpus --init_from out/pretrain/model --output_dir out/ctc --max_steps 3000
    accelerate launch --multi_gpu --num_processes 2 -m hf_asr.cli finetune ...   (or torchrun)

The final model folder is --output_dir/model, next to the checkpoints and all_results.json (see
`hf_asr.training.run_folder`). Both resume from the last complete checkpoint in --output_dir when there is one
(--auto_resume false to start over; --resume_from_checkpoint PATH for a given one). Options are parsed by
`HfArgumentParser`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import HfArgumentParser, TrainingArguments

from ..modeling.text_normalizer import NUMBER_POLICIES
from ..modeling.value_rules import (
    COUNT,
    FRACTION,
    LEADING_FRACTION,
    NOT_NEGATIVE,
    OPEN_FRACTION,
    POSITIVE,
    check_optional,
    check_value,
)
from .run_folder import final_model_dir

logger = logging.getLogger(__name__)


@dataclass
class CorpusOptions:
    _argument_group_name = "hf_asr options"  # HfArgumentParser's --help group title (a class attribute, no field)

    corpus: str = field(
        metadata={
            "help": "Corpus: a saved dataset, LibriSpeech tree, Common Voice folder, NeMo manifest(s), SpeechBrain "
            "CSV(s), audiofolder, or Hub name (needs network)."
        }
    )
    corpus_config: str | None = field(
        default=None, metadata={"help": "Configuration (subset) of a Hub dataset, as datasets.load_dataset's name."}
    )
    train_split: str = field(default="train", metadata={"help": "Split to train on; a+b: the two concatenated."})
    eval_split: str | None = field(default="validation", metadata={"help": "Split evaluated every --eval_steps."})
    audio_column: str = field(default="audio", metadata={"help": "Audio column."})
    max_seconds_per_batch: float | None = field(
        default=None, metadata={"help": "Batch by total audio seconds per device (replaces the per-device batch size)."}
    )
    max_audio_seconds: float | None = field(default=None, metadata={"help": "Drop longer utterances."})
    min_audio_seconds: float | None = field(default=None, metadata={"help": "Drop shorter utterances."})
    validation_fraction: float | None = field(
        default=None, metadata={"help": "Without an eval split, hold out this fraction of train as it (--seed)."}
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "Train on the first N utterances only."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Evaluate on the first N utterances only."})
    preprocessing_num_workers: int | None = field(
        default=None, metadata={"help": "Processes computing the features and labels (datasets' num_proc)."}
    )
    cache_dir: str | None = field(
        default=None,
        metadata={
            "help": "Folder caching the computed features and labels (default: hf_asr-features in datasets' cache"
            " folder, never inside the corpus folder); a second run with the same settings reads them back."
        },
    )
    auto_resume: bool = field(
        default=True, metadata={"help": "Resume from the last complete checkpoint in --output_dir if there is one."}
    )
    streaming: bool = field(
        default=False,
        metadata={
            "help": "Read the corpus as a stream: features and labels are computed as it is read, nothing is cached;"
            " needs --max_steps (and for finetune --vocab or --processor)."
        },
    )

    def __post_init__(self) -> None:
        # Checked here, before the corpus is loaded and its features computed.
        check_optional("--max_seconds_per_batch", self.max_seconds_per_batch, POSITIVE)
        check_optional("--max_audio_seconds", self.max_audio_seconds, POSITIVE)
        check_optional("--min_audio_seconds", self.min_audio_seconds, NOT_NEGATIVE)
        check_optional("--validation_fraction", self.validation_fraction, OPEN_FRACTION)
        check_optional("--max_train_samples", self.max_train_samples, COUNT)
        check_optional("--max_eval_samples", self.max_eval_samples, COUNT)
        check_optional("--preprocessing_num_workers", self.preprocessing_num_workers, COUNT)


@dataclass
class PretrainOptions(CorpusOptions):
    preset: str = field(default="tiny", metadata={"help": "Model size when starting fresh: tiny or base."})
    config: str | None = field(default=None, metadata={"help": "Config JSON file or model folder (replaces --preset)."})
    init_from: str | None = field(default=None, metadata={"help": "Pretraining model folder to continue from."})
    mask_prob: float | None = field(default=None, metadata={"help": "Span-mask start probability (config default)."})
    span_length: int | None = field(default=None, metadata={"help": "Span length in frames (config default)."})
    num_negatives: int | None = field(default=None, metadata={"help": "Negatives per masked frame (config default)."})
    diversity_loss_weight: float | None = field(default=None, metadata={"help": "Diversity loss weight."})
    collapse_patience: int = field(default=20, metadata={"help": "Logging steps before the codebook-collapse alarm."})

    def __post_init__(self) -> None:
        super().__post_init__()
        check_optional("--mask_prob", self.mask_prob, FRACTION)
        check_optional("--span_length", self.span_length, COUNT)
        check_optional("--num_negatives", self.num_negatives, COUNT)
        check_optional("--diversity_loss_weight", self.diversity_loss_weight, NOT_NEGATIVE)
        check_value("--collapse_patience", self.collapse_patience, COUNT)


@dataclass
class FinetuneOptions(CorpusOptions):
    text_column: str = field(default="text", metadata={"help": "Transcript column."})
    init_from: str | None = field(
        default=None, metadata={"help": "Pretrained (or fine-tuned) model folder; none: a new model from --preset."}
    )
    preset: str = field(default="tiny", metadata={"help": "Model size without --init_from: tiny or base."})
    processor: str | None = field(
        default=None, metadata={"help": "Processor folder to reuse; default: a vocabulary built from the train texts."}
    )
    vocab: str | None = field(
        default=None, metadata={"help": "vocab.json to use (with a new feature extractor) instead of building one."}
    )
    numbers: str | None = field(
        default=None,
        metadata={"help": "Digits in transcripts: words (default), drop or keep (text normaliser; see build-vocab)."},
    )
    language: str | None = field(default=None, metadata={"help": "num2words language for --numbers words (en)."})
    keep_case: bool | None = field(default=None, metadata={"help": "Do not lowercase transcripts (cased vocab)."})
    freeze_feature_encoder: bool | None = field(
        default=None,
        metadata={
            "help": "true/false: keep the conv feature encoder fixed (default: true with --init_from, false for a new "
            "model, whose encoder must learn)."
        },
    )
    freeze_base_model_fraction: float = field(
        default=0.0,
        metadata={
            "help": "Train the CTC head alone for this first fraction of the steps, then the whole model (wav2vec "
            "2.0's freeze_finetune_updates; 0: never)."
        },
    )
    mask_time_prob: float | None = field(default=None, metadata={"help": "SpecAugment time-mask probability."})
    mask_feature_prob: float | None = field(default=None, metadata={"help": "SpecAugment channel-mask probability."})

    def __post_init__(self) -> None:
        super().__post_init__()
        check_optional("--mask_time_prob", self.mask_time_prob, FRACTION)
        check_optional("--mask_feature_prob", self.mask_feature_prob, FRACTION)
        check_value("--freeze_base_model_fraction", self.freeze_base_model_fraction, LEADING_FRACTION)
        if self.numbers is not None and self.numbers not in NUMBER_POLICIES:
            raise ValueError(f"--numbers {self.numbers!r}: expected one of {sorted(NUMBER_POLICIES)}")


# ---- parsing -----------------------------------------------------------------------------------------------------
def dataclasses_from_namespace(namespace: argparse.Namespace, *dtypes: type) -> list[Any]:
    """Each dataclass of `dtypes` built from the parsed options, as `HfArgumentParser.parse_args_into_dataclasses`
    does (the subcommand's options are parsed with the others, by the `hf-asr` parser)."""
    values = vars(namespace)
    return [
        dtype(**{f.name: values[f.name] for f in dataclasses.fields(dtype) if f.init and f.name in values})
        for dtype in dtypes
    ]


def _add_command(subparsers: argparse._SubParsersAction, name: str, options: type, help_text: str, run: Any) -> None:
    # HfArgumentParser turns the dataclass fields into options; the subcommand inherits them as a parent parser.
    fields = HfArgumentParser([options, TrainingArguments], add_help=False)
    parser = subparsers.add_parser(
        name,
        parents=[fields],
        help=help_text,
        description=f"{help_text} The hf_asr options are listed last, after transformers' TrainingArguments.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.set_defaults(
        run=lambda args: run(*dataclasses_from_namespace(args, options, TrainingArguments)), hf_asr_options=options
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `pretrain` and `finetune`; each sets `run=callable(args) -> int`."""
    _add_command(
        subparsers,
        "pretrain",
        PretrainOptions,
        "Contrastive (wav2vec 2.0) pretraining of a log-mel encoder on unlabelled audio.",
        run_pretrain,
    )
    _add_command(
        subparsers,
        "finetune",
        FinetuneOptions,
        "CTC fine-tuning on transcribed audio (WER/CER on the eval split).",
        run_finetune,
    )


# ---- running -----------------------------------------------------------------------------------------------------
def _resume_target(options: CorpusOptions, args: TrainingArguments) -> str | bool | None:
    if args.resume_from_checkpoint:
        return args.resume_from_checkpoint
    return "auto" if options.auto_resume else None


def _load(options: CorpusOptions, args: TrainingArguments, text_column: str | None) -> Any:
    """The corpus, its splits checked (names the folder) before any feature is computed."""
    from ..data.loading import load_corpus
    from .base import check_resume
    from .inputs import check_training_args, needs_evaluation, select_splits, training_splits

    check_training_args(args)
    check_resume(_resume_target(options, args), args)
    corpus = load_corpus(
        options.corpus,
        config=options.corpus_config,
        audio_column=options.audio_column,
        text_column=text_column,
        streaming=options.streaming,
    )
    corpus = select_splits(
        corpus,
        options.train_split,
        options.eval_split,
        options.validation_fraction,
        args.seed,
        options.max_train_samples,
        options.max_eval_samples,
        needs_evaluation(args),
        where=options.corpus,
    )
    training_splits(corpus, options.train_split, options.eval_split, needs_evaluation(args), where=options.corpus)
    return corpus


def _prepared(options: CorpusOptions, args: TrainingArguments, corpus: Any, extractor: Any, **kwargs: Any) -> Any:
    """`prepare_dataset` of `corpus`, computed by the main process first and read from the cache by the others."""
    from ..data.features import prepare_dataset

    cache_dir = options.cache_dir
    if cache_dir is None:
        import datasets

        cache_dir = str(Path(datasets.config.HF_DATASETS_CACHE) / "hf_asr-features")
    with args.main_process_first(desc="computing features and labels"):
        return prepare_dataset(
            corpus,
            extractor,
            audio_column=options.audio_column,
            max_seconds=options.max_audio_seconds,
            min_seconds=options.min_audio_seconds,
            num_proc=options.preprocessing_num_workers,
            cache_dir=cache_dir,
            **kwargs,
        )


def _read_json(path: str, option: str) -> Any:
    """The JSON in file `path`; FileNotFoundError/ValueError naming `option` and the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{option} {path}: no such file") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{option} {path} is not valid JSON: {error}") from error


def _config(preset: str, config_path: str | None = None) -> Any:
    from ..modeling.configuration import LogMelWav2Vec2Config

    if config_path:
        if config_path.endswith(".json"):
            settings = _read_json(config_path, "--config")
            if not isinstance(settings, dict):
                raise ValueError(f"--config {config_path} must hold a JSON object of config fields")
            for key in ("model_type", "transformers_version", "architectures", "auto_map"):
                settings.pop(key, None)
            return LogMelWav2Vec2Config(**settings)
        from .inputs import load_pretrained

        return load_pretrained(LogMelWav2Vec2Config, config_path, "--config")
    if preset not in ("tiny", "base"):
        raise ValueError(f"--preset must be tiny or base, got {preset!r}")
    return getattr(LogMelWav2Vec2Config, preset)()


def run_pretrain(options: PretrainOptions, args: TrainingArguments) -> int:
    from .recipes import pretrain

    logging.basicConfig(level=logging.INFO if args.should_log else logging.WARNING)
    config = None if options.init_from else _config(options.preset, options.config)
    if config is not None and options.diversity_loss_weight is not None:
        config.diversity_loss_weight = options.diversity_loss_weight
    from ..modeling.feature_extraction import LogMelFeatureExtractor

    extractor = LogMelFeatureExtractor()
    corpus = _prepared(options, args, _load(options, args, None), extractor)
    pretrain(
        corpus,
        config,
        init_from=options.init_from,
        feature_extractor=extractor,
        max_seconds_per_batch=options.max_seconds_per_batch,
        mask_prob=options.mask_prob,
        span_length=options.span_length,
        num_negatives=options.num_negatives,
        collapse_patience=options.collapse_patience,
        resume_from_checkpoint=_resume_target(options, args),
        train_split=options.train_split,
        eval_split=options.eval_split,
        training_args=args,
    )
    logger.info("Pretrained model saved in %s", final_model_dir(args.output_dir))
    return 0


def _finetune_processor(options: FinetuneOptions, corpus: Any) -> Any:
    """--processor's processor, or a new one on --vocab or on a vocabulary of the train texts; its text normaliser
    is the one the vocabulary was made with (saved next to it), which the --numbers/... options may not contradict."""
    from pathlib import Path

    from ..data.text import chosen_normalizer
    from ..modeling.feature_extraction import LogMelFeatureExtractor
    from ..modeling.processing import LogMelWav2Vec2Processor
    from ..modeling.text_normalizer import TextNormalizer

    def normalizer(saved: TextNormalizer | None, where: str) -> TextNormalizer:
        return chosen_normalizer(options.numbers, options.language, options.keep_case, saved, where)

    if options.processor:
        from .inputs import load_pretrained

        processor = load_pretrained(LogMelWav2Vec2Processor, options.processor, "--processor")
        normalizer(processor.text_normalizer, f"--processor {options.processor}")
        return processor
    if options.vocab:
        from ..data.vocab import tokenizer_from_vocab

        vocab = _read_json(options.vocab, "--vocab")
        saved = TextNormalizer.from_pretrained(Path(options.vocab).parent)
        return LogMelWav2Vec2Processor(
            LogMelFeatureExtractor(), tokenizer_from_vocab(vocab), text_normalizer=normalizer(saved, options.vocab)
        )
    if options.streaming:
        raise ValueError(
            "--streaming needs --vocab or --processor: building a vocabulary would read the whole stream first "
            "(hf-asr build-vocab makes one)"
        )
    from ..data.vocab import build_tokenizer
    from .inputs import training_splits

    train, _ = training_splits(corpus, options.train_split, None, where=options.corpus)
    chosen = normalizer(None, "")
    texts = train.select_columns([options.text_column])[options.text_column]
    tokenizer = build_tokenizer(chosen(text, index, options.text_column) for index, text in enumerate(texts))
    return LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer, text_normalizer=chosen)


def run_finetune(options: FinetuneOptions, args: TrainingArguments) -> int:
    from .recipes import finetune

    logging.basicConfig(level=logging.INFO if args.should_log else logging.WARNING)
    corpus = _load(options, args, options.text_column)
    processor = _finetune_processor(options, corpus)
    corpus = _prepared(
        options,
        args,
        corpus,
        processor.feature_extractor,
        tokenizer=processor.tokenizer,
        text_column=options.text_column,
        normalize_text=processor.text_normalizer,
    )
    finetune(
        corpus,
        processor,
        options.init_from,
        config=None if options.init_from else _config(options.preset),
        freeze_feature_encoder=options.freeze_feature_encoder,
        freeze_base_model_fraction=options.freeze_base_model_fraction,
        mask_time_prob=options.mask_time_prob,
        mask_feature_prob=options.mask_feature_prob,
        max_seconds_per_batch=options.max_seconds_per_batch,
        resume_from_checkpoint=_resume_target(options, args),
        train_split=options.train_split,
        eval_split=options.eval_split,
        training_args=args,
    )
    logger.info("Fine-tuned model and processor saved in %s", final_model_dir(args.output_dir))
    return 0


__all__ = ["register", "run_pretrain", "run_finetune", "PretrainOptions", "FinetuneOptions"]
