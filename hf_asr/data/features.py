"""Corpus -> training examples: log-mel features (or raw audio for on-the-fly features), durations, label ids.

    prepared = prepare_dataset(corpus, feature_extractor, tokenizer)                    # features computed once
    prepared = prepare_dataset(corpus, feature_extractor, tokenizer, precompute_features=False)  # per batch

The first gives `input_features` (T_mel, n_mels) rows, read back as numpy arrays; the second keeps the undecoded
audio (the collators decode it, augment it when training, and compute the features per batch). A streamed corpus
(`datasets.IterableDataset`) is prepared lazily as it is read, by `stream_features.prepare_stream`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from datasets.fingerprint import Hasher

from ..modeling.atomic_write import staged_folder
from .audio import audio_array, decode_with_datasets
from .text import normalize_transcript, report_unknown_characters, require_transcript, tokenizer_alphabet

DURATION_COLUMN = "duration"
CACHE_KEY_FILE = "cache_key.json"
AnyCorpus = datasets.Dataset | datasets.DatasetDict | datasets.IterableDataset | datasets.IterableDatasetDict


def prepare_dataset(
    corpus: AnyCorpus,
    feature_extractor: Any,
    tokenizer: Any | None = None,
    audio_column: str = "audio",
    text_column: str = "text",
    normalize_text: bool | Callable[[str], str] = True,
    max_seconds: float | None = None,
    num_proc: int | None = None,
    precompute_features: bool = True,
    unknown_characters: str = "warn",
    cache_dir: str | Path | None = None,
    min_seconds: float | None = None,
) -> AnyCorpus:
    """Audio -> `input_features` (T_mel, n_mels) and `duration` (s); text -> `labels` (with a tokenizer).

    Other columns are dropped. Transcripts go through `normalize_text` first when it is a normaliser (pass the
    processor's `text_normalizer`, so labels match the vocabulary), through the default `TextNormalizer` when True,
    as they are when False. `max_seconds` drops longer utterances, `min_seconds` shorter ones.
    `precompute_features=False` keeps the audio as undecoded `audio` cells (plus `duration` and `labels`).
    Already prepared corpora (with `input_features`) are returned as they are.

    Transcripts are checked first: one that is not a string (None: an empty cell) raises `TranscriptTypeError`
    naming the sample and column; characters outside the tokenizer's vocabulary (they become <unk>) give an
    `UnknownCharactersWarning` naming each with its count (`unknown_characters="raise"`: UnknownCharactersError,
    `"ignore"`: no check). Audio cells may be `datasets.Audio` values or bare sample arrays/lists, which are taken
    to be at the feature extractor's rate; anything else raises AudioReadError naming the sample and column.

    `cache_dir`: where the computed columns are cached (one Arrow file per split and step, named by the split's
    fingerprint and the step's settings), so a second run, or the other processes of a distributed run after the
    main one (`TrainingArguments.main_process_first`), read them instead of computing them again. None: datasets'
    default, beside the corpus' own Arrow files for a saved corpus (in the user's corpus folder).

    A streamed corpus (IterableDataset or IterableDatasetDict) comes back as a stream prepared lazily, each example
    decoded once as it is read (see `stream_features`): no cache (`cache_dir` unused), no `num_proc` (the
    DataLoader's workers read the stream), transcripts checked as they come.
    """
    if not isinstance(corpus, AnyCorpus):
        raise TypeError(
            f"corpus must be a datasets.Dataset, DatasetDict, IterableDataset or IterableDatasetDict, got "
            f"{type(corpus).__name__}"
        )
    if not hasattr(feature_extractor, "sampling_rate"):
        raise TypeError(
            f"feature_extractor must be a feature extractor (LogMelFeatureExtractor), got {feature_extractor!r}"
        )
    if max_seconds is not None and not max_seconds > 0:
        raise ValueError(f"max_seconds={max_seconds!r}: expected a positive number of seconds, or None for no limit")
    if min_seconds is not None and not min_seconds >= 0:
        raise ValueError(f"min_seconds={min_seconds!r}: expected a number of seconds >= 0, or None for no limit")
    if min_seconds is not None and max_seconds is not None and min_seconds > max_seconds:
        raise ValueError(f"min_seconds={min_seconds} is above max_seconds={max_seconds}: every utterance would go")
    if isinstance(corpus, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        return type(corpus)(
            {
                name: prepare_dataset(
                    split,
                    feature_extractor,
                    tokenizer,
                    audio_column,
                    text_column,
                    normalize_text,
                    max_seconds,
                    num_proc,
                    precompute_features,
                    unknown_characters,
                    cache_dir,
                    min_seconds,
                )
                for name, split in corpus.items()
            }
        )
    if isinstance(corpus, datasets.IterableDataset):
        if num_proc is not None:
            raise ValueError(
                f"num_proc={num_proc} (--preprocessing_num_workers) does not apply to a streamed corpus, which is "
                "prepared as it is read: use the DataLoader's workers (--dataloader_num_workers)"
            )
        from .stream_features import prepare_stream

        return prepare_stream(
            corpus,
            feature_extractor,
            tokenizer,
            audio_column,
            text_column,
            _normalizer(normalize_text),
            max_seconds,
            precompute_features,
            unknown_characters,
        )
    if "input_features" in corpus.column_names:
        if tokenizer is not None and "labels" not in corpus.column_names:
            raise ValueError("the corpus has input_features but no labels: prepare it again with its text column")
        return corpus
    if audio_column not in corpus.column_names:
        raise ValueError(f"no audio column {audio_column!r} in the corpus; its columns are {corpus.column_names}")
    if tokenizer is not None and text_column not in corpus.column_names:
        raise ValueError(f"no text column {text_column!r} in the corpus; its columns are {corpus.column_names}")
    normalize = _normalizer(normalize_text)
    if tokenizer is not None:
        _check_transcripts(corpus, text_column, normalize, tokenizer, unknown_characters)
    steps = _with_features if precompute_features else _with_audio
    cached = CachedMap(cache_dir, num_proc)
    prepared = steps(corpus, feature_extractor, tokenizer, audio_column, text_column, normalize, cached)
    if max_seconds or min_seconds:
        low, high = min_seconds or 0.0, max_seconds or float("inf")
        where = cached.file_for(prepared, "filter", low, high)
        prepared = prepared.filter(lambda d: low <= d <= high, input_columns=DURATION_COLUMN, **where)
    return prepared


def _normalizer(normalize_text: bool | Callable[[str], str]) -> Callable[[str], str]:
    if callable(normalize_text):
        return normalize_text
    return normalize_transcript if normalize_text else _unchanged


def _unchanged(text: str) -> str:
    return text


@dataclass(frozen=True)
class CachedMap:
    """`Dataset.map` with its result cached under `cache_dir` (None: where datasets puts it) by `num_proc`."""

    cache_dir: str | Path | None
    num_proc: int | None

    def __call__(self, corpus: datasets.Dataset, function: Callable, **kwargs: Any) -> datasets.Dataset:
        return corpus.map(function, num_proc=self.num_proc, **kwargs, **self.file_for(corpus, function, kwargs))

    def file_for(self, corpus: datasets.Dataset, *step: Any) -> dict[str, str]:
        """{"cache_file_name": ...} for the step that turns `corpus` into a new dataset (hashed as datasets
        fingerprints its own steps: the corpus' fingerprint and the step's function and arguments)."""
        if self.cache_dir is None:
            return {}
        folder = Path(self.cache_dir)
        folder.mkdir(parents=True, exist_ok=True)
        return {"cache_file_name": str(folder / f"{Hasher.hash([corpus._fingerprint, *step])}.arrow")}


def _check_transcripts(corpus, text_column, normalize, tokenizer, unknown_characters) -> None:
    """Every transcript a string (else an error naming the sample), unknown characters reported by the policy."""
    texts = corpus.select_columns([text_column])[text_column]  # without decoding the audio
    normalized = [normalize(require_transcript(text, index, text_column)) for index, text in enumerate(texts)]
    alphabet = tokenizer_alphabet(tokenizer)
    if alphabet is not None:
        report_unknown_characters(normalized, alphabet, unknown_characters, where=f"column {text_column!r}")


def checked_audio(value: Any, rate: int, index: int, column: str) -> np.ndarray:
    where = f"sample {index} in column {column!r}"
    array, sampling_rate = audio_array(value, where)
    if sampling_rate is not None and sampling_rate != rate:
        raise ValueError(
            f"audio of {where} is at {sampling_rate} Hz, the feature extractor expects {rate} Hz: load the corpus "
            "with hf_asr.data.loading.load_corpus (resamples) or cast_column(Audio(sampling_rate=...))"
        )
    return array


def extract_features(feature_extractor: Any, arrays: list[np.ndarray], indices: list[int], column: str) -> list:
    """The extractor's features of one batch; an error names the corpus sample, not the position in the batch."""
    try:
        return feature_extractor(arrays, sampling_rate=feature_extractor.sampling_rate, padding=False)["input_features"]
    except (TypeError, ValueError):
        for array, index in zip(arrays, indices):
            try:
                feature_extractor([array], sampling_rate=feature_extractor.sampling_rate)
            except (TypeError, ValueError) as error:
                raise type(error)(f"audio of sample {index} in column {column!r}: {error}") from error
        raise


def prepared_features(feature_extractor: Any, labelled: bool, audio: Any | None = None) -> datasets.Features:
    """The columns of prepared examples: `input_features` (or `audio`, when its feature is given), `duration` and,
    when `labelled`, `labels`."""
    # Array2D: read in numpy format (the trainers' loaders do), a (T, n_mels) row comes back as one array (~1 ms
    # for 15 s of audio) instead of nested lists (~9 ms).
    columns: dict[str, Any] = (
        {"input_features": datasets.Array2D(shape=(None, feature_extractor.feature_size), dtype="float32")}
        if audio is None
        else {"audio": audio}
    )
    columns[DURATION_COLUMN] = datasets.Value("float64")
    if labelled:
        columns["labels"] = datasets.List(datasets.Value("int64"))
    return datasets.Features(columns)


def _with_features(corpus, feature_extractor, tokenizer, audio_column, text_column, normalize, cached: CachedMap):
    rate = feature_extractor.sampling_rate
    audio_feature = corpus.features.get(audio_column)
    decode = isinstance(audio_feature, datasets.Audio) and audio_feature.decode
    if decode:  # decoded in `convert` as the feature would, by soundfile where that is the same (faster)
        corpus = corpus.cast_column(audio_column, datasets.Audio(decode=False))

    def samples(value: Any, index: int) -> np.ndarray:
        if decode:
            where = f"sample {index} in column {audio_column!r}"
            array, sampling_rate = decode_with_datasets(value, audio_feature, where)
            value = {"array": array, "sampling_rate": sampling_rate}
        return checked_audio(value, rate, index, audio_column)

    def convert(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
        arrays = [samples(value, i) for value, i in zip(batch[audio_column], indices)]
        features = extract_features(feature_extractor, arrays, indices, audio_column)
        out = {
            "input_features": [np.asarray(f, dtype=np.float32) for f in features],
            DURATION_COLUMN: [len(a) / rate for a in arrays],
        }
        if tokenizer is not None:
            out["labels"] = [tokenizer(normalize(text)).input_ids for text in batch[text_column]]
        return out

    return cached(
        corpus,
        convert,
        with_indices=True,
        batched=True,
        batch_size=32,
        remove_columns=corpus.column_names,
        features=prepared_features(feature_extractor, tokenizer is not None),
        desc="log-mel features",
    )


def _with_audio(corpus, feature_extractor, tokenizer, audio_column, text_column, normalize, cached: CachedMap):
    if isinstance(corpus.features.get(audio_column), datasets.Audio):
        corpus = corpus.cast_column(audio_column, datasets.Audio(decode=False))
    if audio_column != "audio":
        corpus = corpus.rename_column(audio_column, "audio")
    keep = ["audio"]
    if DURATION_COLUMN not in corpus.column_names:
        rate = feature_extractor.sampling_rate
        corpus = cached(
            corpus,
            lambda value, i: {DURATION_COLUMN: len(checked_audio(value, rate, i, audio_column)) / rate},
            input_columns="audio",
            with_indices=True,
            desc="durations",
        )
    keep.append(DURATION_COLUMN)
    if tokenizer is not None:
        corpus = cached(
            corpus,
            lambda text: {"labels": tokenizer(normalize(text)).input_ids},
            input_columns=text_column,
            desc="label ids",
        )
        keep.append("labels")
    return corpus.select_columns(keep)


def cached_datasets(
    folder: str | Path, key: dict[str, Any], build: Callable[[], datasets.DatasetDict]
) -> datasets.DatasetDict:
    """`build()`'s DatasetDict, saved in `folder` with `key`; a later call with an equal key loads it instead.

    For prepared features that many runs share (the demo's second run, the pretraining-benefit runs). `key` must
    name everything the content depends on (corpus recipe, feature-extractor settings, vocabulary); any change
    rebuilds. The folder is written atomically.
    """
    folder = Path(folder).resolve()  # a link (a shared cache) is written where it points
    key = json.loads(json.dumps(key))  # as it will read back
    try:
        if json.loads((folder / CACHE_KEY_FILE).read_text()) == key:
            return datasets.load_from_disk(str(folder))
    except (OSError, ValueError):
        pass
    built = build()
    with staged_folder(folder) as staging:
        built.save_to_disk(str(staging))
        (staging / CACHE_KEY_FILE).write_text(json.dumps(key, indent=1))
    return datasets.load_from_disk(str(folder))


def split_corpus(
    corpus: AnyCorpus, train_split: str = "train", eval_split: str | None = "validation"
) -> tuple[datasets.Dataset, datasets.Dataset | None]:
    """(train, eval or None) of a DatasetDict; a single Dataset is all train."""
    if isinstance(corpus, datasets.DatasetDict):
        if train_split not in corpus:
            raise ValueError(f"the corpus has no split {train_split!r}; its splits are {list(corpus)}")
        return corpus[train_split], corpus[eval_split] if eval_split and eval_split in corpus else None
    return corpus, None


__all__ = ["prepare_dataset", "split_corpus", "cached_datasets", "DURATION_COLUMN"]
