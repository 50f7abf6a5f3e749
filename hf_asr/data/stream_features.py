"""A streamed corpus (`datasets.IterableDataset`) -> training examples, prepared lazily as they are read.

`prepare_dataset` hands streams here: one `map` (no cache file, nothing computed ahead) reads each example's audio
once and gives its `duration` and, with a tokenizer, its `labels`, plus

- `input_features` (T_mel, n_mels) computed right there (`precompute_features=True`), or
- the decoded audio `{"array", "sampling_rate"}` itself (`precompute_features=False`: the collators augment it and
  compute the features per batch).

Why so: the duration (for duration batching) needs the decoded audio, and decoding is the largest cost of an example
(measured on 10 min of 5-15 s FLAC utterances, one CPU thread: decoding 0.50 ms per audio-second, log-mel per
example 0.42, log-mel per padded batch of 16 0.97). Keeping undecoded audio for the collator, as saved corpora do
(their durations are computed once and cached), would decode every example twice on every pass. Features computed
in the map also halve what the batching buffer holds: 32 kB per audio-second against 64 kB for the float32 waveform.

Transcripts are checked as they come: a non-string names its sample; each character outside the vocabulary is
warned about (or raised, or ignored) the first time it appears. Samples are numbered in this process's stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import datasets
import numpy as np

from .features import DURATION_COLUMN, checked_audio, extract_features, prepared_features
from .text import report_unknown_characters, require_transcript, tokenizer_alphabet

DECODED_AUDIO = {"array": datasets.List(datasets.Value("float32")), "sampling_rate": datasets.Value("int64")}


def prepare_stream(
    stream: datasets.IterableDataset,
    feature_extractor: Any,
    tokenizer: Any | None,
    audio_column: str,
    text_column: str,
    normalize: Callable[[str], str],
    max_seconds: float | None,
    precompute_features: bool,
    unknown_characters: str,
) -> datasets.IterableDataset:
    """The lazily prepared stream (see the module docstring); the arguments are `prepare_dataset`'s."""
    names = stream.column_names  # None: a stream whose columns are known only once read
    if names is not None:
        if "input_features" in names:
            if tokenizer is not None and "labels" not in names:
                raise ValueError("the stream has input_features but no labels: prepare it again with its text column")
            return stream
        for column in [audio_column] + ([text_column] if tokenizer is not None else []):
            if column not in names:
                raise ValueError(f"no column {column!r} in the streamed corpus; its columns are {names}")
    labels = _StreamLabels(tokenizer, normalize, text_column, unknown_characters) if tokenizer is not None else None
    step = _PrepareExample(feature_extractor, audio_column, text_column, labels, precompute_features)
    # Declared columns cost ~0.05 ms per example (numpy arrays pass through) and make the stream's columns known.
    features = prepared_features(feature_extractor, labels is not None, None if precompute_features else DECODED_AUDIO)
    prepared = stream.map(step, with_indices=True, features=features).select_columns(list(features))
    if max_seconds:
        prepared = prepared.filter(lambda seconds: seconds <= max_seconds, input_columns=DURATION_COLUMN)
    return prepared


class _StreamLabels:
    """Label ids of transcripts as they stream by, each checked (see the module docstring)."""

    def __init__(self, tokenizer: Any, normalize: Callable[[str], str], column: str, policy: str) -> None:
        report_unknown_characters([], [], policy)  # checks the policy's name now, not at the first example
        self.tokenizer, self.normalize, self.column, self.policy = tokenizer, normalize, column, policy
        alphabet = tokenizer_alphabet(tokenizer)
        self.known = None if alphabet is None else set(alphabet)  # grows by each unknown character once reported

    def __call__(self, text: Any, index: int) -> list[int]:
        text = self.normalize(require_transcript(text, index, self.column))
        if self.known is not None and self.policy != "ignore":
            where = f"column {self.column!r} of the stream (each character is reported once)"
            self.known.update(report_unknown_characters([text], self.known, self.policy, where, start=index))
        return self.tokenizer(text).input_ids


class _PrepareExample:
    """The `map` step: one example -> duration, features or decoded audio, labels."""

    def __init__(
        self,
        feature_extractor: Any,
        audio_column: str,
        text_column: str,
        labels: _StreamLabels | None,
        precompute_features: bool,
    ) -> None:
        self.feature_extractor, self.audio_column, self.text_column = feature_extractor, audio_column, text_column
        self.labels, self.precompute_features = labels, precompute_features

    def __call__(self, example: dict[str, Any], index: int) -> dict[str, Any]:
        for column in [self.audio_column] + ([self.text_column] if self.labels else []):
            if column not in example:
                raise ValueError(f"example {index} of the stream has no column {column!r}; it has {sorted(example)}")
        rate = self.feature_extractor.sampling_rate
        array = checked_audio(example[self.audio_column], rate, index, self.audio_column)
        out: dict[str, Any] = {DURATION_COLUMN: len(array) / rate}
        if self.precompute_features:
            features = extract_features(self.feature_extractor, [array], [index], self.audio_column)[0]
            out["input_features"] = np.asarray(features, dtype=np.float32)
        else:
            out["audio"] = {"array": array, "sampling_rate": rate}
        if self.labels is not None:
            out["labels"] = self.labels(example[self.text_column], index)
        return out


__all__ = ["prepare_stream"]
