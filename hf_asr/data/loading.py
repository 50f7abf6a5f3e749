"""Load any speech corpus for training: saved with `save_to_disk`, a LibriSpeech tree, a Common Voice folder, NeMo
manifests, SpeechBrain CSVs, an `audiofolder` directory, or a Hub dataset; the layout is detected (`layouts.py`).

The audio column comes back decoded lazily, one example at a time, as a plain dict
`{"array": float32 (num_samples,), "sampling_rate": int, "path": str | None}` (mono, resampled to `sampling_rate`).
Every failure names what failed: the missing column (and the columns there are), the audio file that cannot be
decoded, the sampling rate that does not match, the Debian packages FFmpeg needs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import datasets

from .audio import AudioReadError, audio_column_problem, decode_with_datasets
from .corpus_errors import AudioDecodingError, CorpusError
from .layouts import describe_corpus, detect_layout, not_a_corpus, read_layout

logger = logging.getLogger(__name__)

FFMPEG_DEBIAN_PACKAGES = "libavcodec59 libavformat59 libavutil57 libswresample4 libswscale6 libavdevice59 libavfilter8"

STREAM_SHARDS = 64  # shards of a saved corpus read as a stream: a multiple of any usual process count

AnyDataset = datasets.Dataset | datasets.DatasetDict | datasets.IterableDataset | datasets.IterableDatasetDict


def require_audio_backend() -> None:
    """Check that torchcodec and FFmpeg's libraries load; RuntimeError naming what to install if not.

    datasets decodes every audio format through torchcodec, which loads FFmpeg's shared libraries: without them all
    decoding fails (`audiofolder` even with `decode=False`).
    """
    try:
        import torchcodec.decoders  # noqa: F401  (loads the FFmpeg libraries)
    except (ImportError, OSError, RuntimeError) as error:
        first_line = (str(error).splitlines() or [""])[0]
        raise RuntimeError(
            f"audio decoding is unavailable ({type(error).__name__}: {first_line})."
            f" datasets needs torchcodec (`pip install torchcodec`, matching your torch) and FFmpeg's libraries: "
            f"`apt-get install {FFMPEG_DEBIAN_PACKAGES}`"
        ) from error


def load_corpus(
    source: str | Path,
    config: str | None = None,
    split: str | None = None,
    audio_column: str = "audio",
    text_column: str | None = "text",
    sampling_rate: int = 16_000,
    streaming: bool = False,
    resample: bool = True,
) -> AnyDataset:
    """Load a corpus and make its audio column decode to mono `sampling_rate` arrays, lazily.

    source: a folder written by `save_to_disk` (Dataset or DatasetDict), a LibriSpeech tree, a Common Voice folder,
        a folder of NeMo manifests or SpeechBrain CSVs (or one such file: split "train"), a local `audiofolder`
        directory (audio files plus an optional metadata.csv/jsonl holding the transcripts), or a Hub dataset name
        (needs network). `hf_asr.data.layouts` says how each is recognised and which splits and columns it gives;
        the layout found is logged at INFO with the splits and their sizes.
    config, split: as in `datasets.load_dataset`; `split` also picks one split of a local corpus.
    text_column: checked to exist (None skips the check).
    streaming: return Iterable datasets (saved folders are converted with `to_iterable_dataset`).
    resample: if False, audio is decoded at its own rate and an example whose rate differs from `sampling_rate`
        raises `CorpusError` naming the file and both rates.
    Returns a Dataset/DatasetDict (IterableDataset/IterableDatasetDict when streaming) with the audio column
    decoded per example to `{"array", "sampling_rate", "path"}` (a `with_transform`; `map`/`filter` see decoded
    audio). Read other columns with `ds.select_columns([name])[name]`: `ds[name]` alone decodes every audio file.
    """
    if not isinstance(source, (str, Path)):
        raise TypeError(f"source must be a folder path or a Hub dataset name, got {type(source).__name__}")
    if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, int) or sampling_rate <= 0:
        raise ValueError(f"sampling_rate={sampling_rate!r}: expected a positive whole number of Hz")
    require_audio_backend()
    layout = detect_layout(source)
    corpus = _open(source, layout, config, split, streaming)
    logger.info(describe_corpus(source, layout, corpus))
    where = str(source)
    parts = corpus.values() if isinstance(corpus, (datasets.DatasetDict, datasets.IterableDatasetDict)) else [corpus]
    for part in parts:
        _check_columns(part, [audio_column] + ([text_column] if text_column else []), where)
        _check_audio_feature(part, audio_column, where)
    decoder = _AudioColumnDecoder(audio_column, sampling_rate, resample, where)
    # Arrow keeps the undecoded {"bytes", "path"}: we decode ourselves so that errors can name the file.
    try:
        corpus = corpus.cast_column(audio_column, datasets.Audio(decode=False))
    except (TypeError, ValueError) as error:  # pyarrow's cast errors name neither the column nor the corpus
        raise CorpusError(f"column {audio_column!r} of {where} cannot be read as audio: {error}") from error
    if isinstance(corpus, (datasets.IterableDataset, datasets.IterableDatasetDict)):
        return corpus.map(decoder.decode_example)
    return corpus.with_transform(decoder.decode_batch)


def _open(source: str | Path, layout: str, config: str | None, split: str | None, streaming: bool) -> AnyDataset:
    path = Path(source)
    if layout == "hub":
        try:
            return datasets.load_dataset(str(source), config, split=split, streaming=streaming)
        except Exception as error:  # the Hub's errors rarely say that the name was taken for a missing local folder
            raise CorpusError(
                f"{source!r} is not a local folder and could not be loaded as a Hub dataset "
                f"({type(error).__name__}: {error})"
            ) from error
    if config is not None:
        raise CorpusError(f"{source} is a local corpus ({layout}): config={config!r} names a Hub dataset's subset")
    if layout == "audiofolder":
        try:
            return datasets.load_dataset("audiofolder", data_dir=str(path), split=split, streaming=streaming)
        except (ValueError, FileNotFoundError) as error:  # datasets' message names neither the folder nor a layout
            raise not_a_corpus(path, f"audiofolder: {type(error).__name__}: {error}") from error
    corpus = datasets.load_from_disk(str(path)) if layout == "saved" else read_layout(path, layout, split)
    if split is not None:
        if not isinstance(corpus, datasets.DatasetDict):
            raise CorpusError(f"{path} holds a single Dataset, not splits; drop split={split!r}")
        if split not in corpus:
            raise CorpusError(f"{path} has no split {split!r}; its splits are {list(corpus)}")
        corpus = corpus[split]
    if streaming:
        if isinstance(corpus, datasets.DatasetDict):
            return datasets.IterableDatasetDict({k: _as_stream(v) for k, v in corpus.items()})
        return _as_stream(corpus)
    return corpus


def _as_stream(dataset: datasets.Dataset) -> datasets.IterableDataset:
    """The saved split as a stream in STREAM_SHARDS shards (in order): with a single shard, every DDP process and
    DataLoader worker would read and decode the whole stream to keep its share of it."""
    return dataset.to_iterable_dataset(num_shards=max(1, min(STREAM_SHARDS, len(dataset))))


def _check_columns(dataset: datasets.Dataset | datasets.IterableDataset, columns: list[str], where: str) -> None:
    names = dataset.column_names
    if names is None:  # a streamed dataset whose features are unknown until read
        names = list(next(iter(dataset)).keys())
    missing = [c for c in columns if c not in names]
    if missing:
        raise CorpusError(f"{where} has no column(s) {missing}; its columns are {names}")


def _check_audio_feature(dataset: datasets.Dataset | datasets.IterableDataset, column: str, where: str) -> None:
    feature = (dataset.features or {}).get(column)  # None: a streamed dataset whose features are unknown
    problem = None if feature is None else audio_column_problem(feature, column)
    if problem:
        raise CorpusError(f"column {column!r} of {where} {problem}")


class _AudioColumnDecoder:
    """Decodes `{"bytes", "path"}` values of one column into mono float32 arrays, naming the file on failure."""

    def __init__(self, column: str, sampling_rate: int, resample: bool, where: str) -> None:
        self.column = column
        self.sampling_rate = sampling_rate
        self.resample = resample
        self.where = where
        self.feature = datasets.Audio(sampling_rate=sampling_rate if resample else None, num_channels=1)

    def decode_value(self, value: dict[str, Any]) -> dict[str, Any]:
        try:
            array, rate = decode_with_datasets(value, self.feature, self.where)
        except AudioReadError as error:
            raise AudioDecodingError(str(error)) from error
        if rate != self.sampling_rate:
            raise CorpusError(
                f"audio {value.get('path') or '<audio bytes without a path>'!r} in {self.where} is sampled at {rate} "
                f"Hz, not {self.sampling_rate} Hz; load with resample=True or resample the corpus"
            )
        return {"array": array, "sampling_rate": rate, "path": value.get("path")}

    def decode_batch(self, batch: dict[str, list]) -> dict[str, list]:
        """`with_transform` hook: the batch is a dict of columns (lists)."""
        if self.column in batch:
            batch[self.column] = [self.decode_value(v) for v in batch[self.column]]
        return batch

    def decode_example(self, example: dict[str, Any]) -> dict[str, Any]:
        """`IterableDataset.map` hook: one example."""
        example[self.column] = self.decode_value(example[self.column])
        return example
