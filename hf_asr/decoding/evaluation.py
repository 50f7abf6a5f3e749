"""Evaluate a CTC model on a corpus split: greedy and (optionally) LM transcripts, WER/CER overall and per group.

result = evaluate_ctc(model, processor, corpus["test"], decoder=processor.decoder)
result.scores            # {"wer_greedy": ..., "cer_greedy": ..., "wer_lm": ..., "cer_lm": ...}
result.by_group(voice)   # the same scores per speaker group (e.g. per engine voice)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data.audio import audio_array
from ..data.text import normalize_transcript
from ..metrics import error_rates
from ..modeling.ctc_labels import greedy_ids
from ..modeling.decoder_options import check_strings
from .inference import compute_logits


@dataclass
class CTCEvaluation:
    """Transcripts of one split: `greedy` (and `lm` when decoded with an LM) against `references`.

    logits: each utterance's (T_i, V) logits, kept for α/β tuning. speakers: the split's `speaker` column, if any.
    """

    references: list[str]
    greedy: list[str]
    lm: list[str] | None = None
    speakers: list[str] | None = None
    logits: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def scores(self) -> dict[str, float]:
        return _scores(self.references, self.greedy, self.lm)

    def by_group(self, group_of: Callable[[str], str]) -> dict[str, dict[str, float]]:
        """Scores per group of utterances, the group given by `group_of(speaker)`; each with its `n_utterances`."""
        if self.speakers is None:
            raise ValueError("this split has no speaker column to group by")
        groups: dict[str, list[int]] = {}
        for index, speaker in enumerate(self.speakers):
            groups.setdefault(group_of(speaker), []).append(index)
        table = {}
        for name, rows in sorted(groups.items()):
            lm = None if self.lm is None else [self.lm[i] for i in rows]
            scores = _scores([self.references[i] for i in rows], [self.greedy[i] for i in rows], lm)
            table[name] = {**scores, "n_utterances": len(rows)}
        return table


def _scores(references: list[str], greedy: list[str], lm: list[str] | None) -> dict[str, float]:
    rates = {f"{name}_greedy": value for name, value in error_rates(greedy, references).items()}
    if lm is not None:
        rates.update({f"{name}_lm": value for name, value in error_rates(lm, references).items()})
    return rates


def split_audio(split: Any, audio_column: str = "audio") -> tuple[list[np.ndarray], int]:
    """The waveforms of a split (any audio cell form, see `audio_array`) and their common sampling rate."""
    rates, waveforms = set(), []
    for value in split.select_columns([audio_column])[audio_column]:
        samples, rate = audio_array(value)
        waveforms.append(samples)
        rates.add(rate)
    if len(rates) != 1 or None in rates:
        raise ValueError(f"the split's audio has sampling rates {sorted(map(str, rates))}; expected one known rate")
    return waveforms, rates.pop()


def evaluate_ctc(
    model: Any,
    processor: Any,
    split: Any,
    decoder: Any | None = None,
    *,
    text_column: str = "text",
    audio_column: str = "audio",
    batch_size: int = 16,
    num_processes: int | None = 2,
    progress: bool = True,
) -> CTCEvaluation:
    """Greedy transcripts of every utterance of `split` (a `datasets` split with audio and text columns) and, with
    `decoder` (an `LMDecoder` or any object with `decode_batch`), LM transcripts; references are the text column,
    normalised as labels are, by `processor.text_normalizer` (the default normaliser for a processor without one)."""
    missing = [column for column in (audio_column, text_column) if column not in split.column_names]
    if missing:
        raise ValueError(f"the split has no column(s) {missing}; its columns are {split.column_names}")
    waveforms, rate = split_audio(split, audio_column)
    normalize = getattr(processor, "text_normalizer", None) or normalize_transcript
    texts = split.select_columns([text_column])[text_column]
    references = [normalize(text, index, text_column) for index, text in enumerate(texts)]
    speakers = list(split.select_columns(["speaker"])["speaker"]) if "speaker" in split.column_names else None
    logits = compute_logits(model, processor.feature_extractor, waveforms, rate, batch_size, progress)
    return transcribe_logits(logits, references, processor.tokenizer, decoder, speakers, num_processes)


def transcribe_logits(
    logits: Sequence[np.ndarray],
    references: Sequence[str],
    tokenizer: Any,
    decoder: Any | None = None,
    speakers: Sequence[str] | None = None,
    num_processes: int | None = 2,
) -> CTCEvaluation:
    """`CTCEvaluation` of precomputed logits (T_i, V): greedy with the tokenizer, and with `decoder` when given.

    NaN/inf logits raise an error naming the utterance (greedy decoding would read them as text or blanks), a
    reference that is not a str (an empty cell) one naming its index."""
    references = check_strings("references", references)
    greedy = [tokenizer.decode(greedy_ids(x, len(tokenizer), f"utterance {i}")) for i, x in enumerate(logits)]
    lm = decoder.decode_batch(list(logits), num_processes=num_processes).text if decoder is not None else None
    return CTCEvaluation(list(references), greedy, lm, None if speakers is None else list(speakers), list(logits))


__all__ = ["CTCEvaluation", "evaluate_ctc", "transcribe_logits", "split_audio"]
