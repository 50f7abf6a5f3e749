"""LMDecoder: CTC beam search with a KenLM n-gram language model (pyctcdecode), saved beside the model.

This file and its siblings ship to the Hub with the model as remote code, so they import only the standard
library, numpy, pyctcdecode, kenlm and transformers. The saved folder's layout is in `lm_decoder_folder.py`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .batched_lm_decoding import decode_batched, load_batched_search
from .ctc_labels import ctc_labels, to_log_probs, trim_to_lengths
from .decoder_options import LM_PARAM_NAMES, SEARCH_DEFAULTS, check_lm_params, check_search_settings, decode_settings
from .fork_pool import fork_map
from .frame_skipping import skip_repeated_frames
from .lm_decoder_folder import has_saved_decoder, read_decoder_folder, write_decoder_folder, write_decoder_params
from .long_logits import join_segment_beams, segment_bounds
from .pyctcdecode_adapter import PyctcdecodeBeamSearch, lm_words, require_pyctcdecode


@dataclass
class LMDecoderOutput:
    """Beam-search results for a batch of utterances (the same fields as transformers' WithLM output).

    word_offsets[i] is a list of {"word", "start_offset", "end_offset"}: logit frames, end exclusive.
    """

    text: list[str]
    word_offsets: list[list[dict[str, Any]]] = field(default_factory=list)
    logit_score: list[float] = field(default_factory=list)
    lm_score: list[float] = field(default_factory=list)


class LMDecoder:
    """pyctcdecode beam search + KenLM over CTC logits; `kenlm_path=None` gives beam search without an LM.

    alpha: LM weight; beta: word insertion bonus; unk_score_offset: log-score added for words outside `unigrams`.
    Search settings (overridable per call): beam_width, beam_prune_logp (drop beams this far below the best),
    token_min_logp (ignore labels below this log-prob unless argmax), hotword_weight (with per-call hotwords),
    max_segment_frames (longer utterances are decoded in pieces cut at pauses, see `decode_beams`; None: never),
    beam_search ("pyctcdecode", one utterance at a time; "batched": many at once with the LM held in tensors, on
    the CPU or, after `.to("cuda")`, the GPU; it needs `ngram_tables`, the `ngram_tables.npz` that `build-lm`
    writes, and gives pyctcdecode's results without prune_history; no hotwords), blank_skip_logp (None: exact;
    a number in [-0.69, 0]: runs of frames whose blank log-prob is at least that are decoded as one frame, see
    `frame_skipping.py`: faster, approximate).
    Every option is checked by `decoder_options.py`: a bad one raises an error naming it and its value.
    """

    def __init__(
        self,
        labels: Sequence[str],
        kenlm_path: str | os.PathLike | None = None,
        unigrams: Iterable[str] | None = None,
        *,
        alpha: float = 0.5,
        beta: float = 1.0,
        unk_score_offset: float = -10.0,
        score_boundary: bool = True,
        ngram_tables: str | os.PathLike | None = None,
        **search: Any,
    ) -> None:
        require_pyctcdecode()
        lm_params = check_lm_params(
            alpha=alpha, beta=beta, unk_score_offset=unk_score_offset, score_boundary=score_boundary
        )
        self.search = {**SEARCH_DEFAULTS, **check_search_settings(**search)}
        if kenlm_path is not None and not isinstance(kenlm_path, (str, os.PathLike)):
            raise TypeError(f"kenlm_path must be a path or None, got {type(kenlm_path).__name__} {kenlm_path!r}")
        self.kenlm_path = None if kenlm_path is None else Path(kenlm_path)
        self.unigrams = lm_words(self.kenlm_path, unigrams)
        self._beam_search = PyctcdecodeBeamSearch(
            labels,
            self.kenlm_path,
            self.unigrams,
            **lm_params,
        )
        self.labels = self._beam_search.labels
        self._blank_id = self.labels.index("")  # PyctcdecodeBeamSearch has checked that there is one
        self.ngram_tables = None if ngram_tables is None else Path(ngram_tables)
        self._batched: Any = None  # the batched search, loaded when first used
        self._device = "cpu"

    @classmethod
    def from_tokenizer(cls, tokenizer: Any, kenlm_path: str | os.PathLike | None, **kwargs: Any) -> LMDecoder:
        """Decoder whose labels follow `tokenizer`'s ids (see `ctc_labels`)."""
        return cls(ctc_labels(tokenizer), kenlm_path, **kwargs)

    @property
    def lm_params(self) -> dict[str, Any]:
        """alpha, beta, unk_score_offset, score_boundary (empty without an LM)."""
        return self._beam_search.lm_params

    def set_params(self, **params: Any) -> None:
        """Change alpha/beta/unk_score_offset/score_boundary and/or search settings in place."""
        lm_keys = check_lm_params(**{k: params.pop(k) for k in list(params) if k in LM_PARAM_NAMES})
        search = check_search_settings(**params)
        if lm_keys:
            self._beam_search.reset_lm_params(**lm_keys)
            if self._batched is not None:
                for name, value in lm_keys.items():
                    setattr(self._batched, name, value)
        self.search.update(search)

    def to(self, device: Any) -> LMDecoder:
        """Run `beam_search="batched"` on `device` (e.g. "cuda"); pyctcdecode always runs on the CPU."""
        self._device = device
        if self._batched is not None:
            self._batched.to(device)
        return self

    def _batched_search(self) -> Any:
        if self._batched is None:
            if self.kenlm_path is not None and self.ngram_tables is None:
                raise ValueError(
                    "beam_search='batched' needs the LM's n-gram tables (ngram_tables.npz), which this decoder "
                    "was not given; `hf-asr build-lm` writes them beside lm.bin (rebuild an older LM with it)"
                )
            tables = self.ngram_tables if self.kenlm_path is not None else None
            self._batched = load_batched_search(self.labels, tables, self.unigrams, self.lm_params, self._device)
        return self._batched

    def decode_beams(
        self,
        logits: Any,
        name: str = "utterance 0",
        *,
        num_processes: int | None = 1,
        progress: Callable[[int, int], None] | None = None,
        **overrides: Any,
    ) -> list[tuple]:
        """pyctcdecode's `decode_beams` output for one (T, V) utterance: [(text, None, [(word, (start, end))],
        logit_score, lm_score), ...], best first; frames index `logits`. Used by the ASR pipeline.

        Utterances longer than `max_segment_frames` are cut at pauses and the segments decoded independently
        (`long_logits.py`; over `num_processes` forked workers, None = one per CPU): then one beam comes back, the
        segments' best beams joined. Shorter ones (or max_segment_frames=None) are decoded whole, exactly as
        pyctcdecode would. `progress(frames_done, frames_total)` is called before and after each segment.
        """
        settings = decode_settings(self.search, overrides)
        log_probs = to_log_probs(logits, len(self.labels), name)
        if len(log_probs) == 0:  # pyctcdecode fails on zero frames; an empty utterance has an empty transcript
            return [("", None, [], 0.0, 0.0)]
        bounds = segment_bounds(log_probs, self._blank_id, settings["max_segment_frames"])
        ends = iter([end for _, end in bounds])

        def report() -> None:
            if progress is not None:
                progress(next(ends), len(log_probs))  # in order of results; forked workers finish roughly in order

        if settings["beam_search"] == "batched":
            pieces = [log_probs[start:end] for start, end in bounds]
            segments = [[beam] for beam in decode_batched(self._batched_search(), pieces, settings, num_processes)]
            if progress is not None:
                progress(len(log_probs), len(log_probs))
            if len(segments) == 1:
                return segments[0]
            return [join_segment_beams([beams[0] for beams in segments], [start for start, _ in bounds])]
        if progress is not None:
            progress(0, len(log_probs))
        segments = fork_map(
            lambda bound: self._decode_whole(log_probs[bound[0] : bound[1]], settings),
            bounds,
            num_processes,
            on_result=report,
        )
        if len(segments) == 1:
            return segments[0]
        return [join_segment_beams([beams[0] for beams in segments], [start for start, _ in bounds])]

    def _decode_whole(self, log_probs: np.ndarray, settings: dict[str, Any]) -> list[tuple]:
        """`decode_beams` of (T, V) log-probs (T >= 1) in one search, with `frame_skipping`'s exact shortening."""
        frames = skip_repeated_frames(
            log_probs, settings["token_min_logp"], self._blank_id, settings["blank_skip_logp"]
        )
        beams = self._beam_search.decode_beams(
            frames.log_probs,
            beam_width=settings["beam_width"],
            beam_prune_logp=settings["beam_prune_logp"],
            token_min_logp=settings["token_min_logp"],
            prune_history=settings["prune_history"],  # True by default: only the best beam is used
            hotwords=settings["hotwords"],
            hotword_weight=settings["hotword_weight"],
        )
        return [
            (
                text,
                None,  # the KenLM state cannot cross processes and nothing here needs it
                [(word, frames.original_span(start, end)) for word, (start, end) in word_frames],
                logit_score + frames.skipped_score,
                lm_score + frames.skipped_score,
            )
            for text, _, word_frames, logit_score, lm_score in beams
        ]

    def decode(self, logits: Any, **overrides: Any) -> str:
        """(T, V) logits or log-probs -> best transcript."""
        return self.decode_beams(logits, **overrides)[0][0]

    def decode_batch(
        self,
        logits: Sequence[Any] | np.ndarray,
        *,
        logit_lengths: Sequence[int] | None = None,
        num_processes: int | None = 1,
        **overrides: Any,
    ) -> LMDecoderOutput:
        """Decode utterances in parallel (forked workers; 1 = in this process, None = one per CPU).

        logits: list of (T_i, V) arrays, or (B, T, V) padded with `logit_lengths` (B,) valid frames.
        All inputs and options are validated before any decoding, so a bad one fails fast and is named by its index.
        """
        settings = decode_settings(self.search, overrides)
        if logit_lengths is not None:
            logits = trim_to_lengths(logits, logit_lengths)
        items = [to_log_probs(x, len(self.labels), f"utterance {i}") for i, x in enumerate(logits)]
        if settings["beam_search"] == "batched":
            beams = self._decode_batched_items(items, settings, num_processes)
        else:
            beams = fork_map(lambda x: self.decode_beams(x, **overrides)[0], items, num_processes)
        return LMDecoderOutput(
            text=[b[0] for b in beams],
            word_offsets=[[{"word": w, "start_offset": s, "end_offset": e} for w, (s, e) in b[2]] for b in beams],
            logit_score=[b[3] for b in beams],
            lm_score=[b[4] for b in beams],
        )

    def _decode_batched_items(
        self, items: list[np.ndarray], settings: dict[str, Any], num_processes: int | None
    ) -> list[tuple]:
        """Best beams of whole utterances, all their segments (see `decode_beams`) decoded together."""
        pieces, owners, starts = [], [], []
        for index, log_probs in enumerate(items):
            if len(log_probs) == 0:
                continue
            for start, end in segment_bounds(log_probs, self._blank_id, settings["max_segment_frames"]):
                pieces.append(log_probs[start:end])
                owners.append(index)
                starts.append(start)
        decoded = decode_batched(self._batched_search(), pieces, settings, num_processes)
        beams: list[tuple] = [("", None, [], 0.0, 0.0)] * len(items)
        for index in sorted(set(owners)):
            mine = [k for k, owner in enumerate(owners) if owner == index]
            joined = [decoded[k] for k in mine]
            beams[index] = joined[0] if len(mine) == 1 else join_segment_beams(joined, [starts[k] for k in mine])
        return beams

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> None:
        """Write the decoder files into `save_directory` (see `lm_decoder_folder.py`), replacing older ones
        atomically."""
        directory = Path(save_directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.kenlm_path is None:
            raise ValueError("this decoder has no language model to save; build one with `hf-asr build-lm`")
        saved_lm = write_decoder_folder(
            directory,
            alphabet_json=self._beam_search.alphabet_json(),
            kenlm_path=self.kenlm_path,
            unigrams=self.unigrams,
            lm_params=self.lm_params,
            search=self.search,
            ngram_tables=self.ngram_tables,
        )
        if self.kenlm_path.resolve().parent == saved_lm.parent.resolve():  # re-saved where it was loaded from
            self.kenlm_path = saved_lm

    def save_params(self, save_directory: str | os.PathLike) -> None:
        """Rewrite only attrs.json and lm_decoder_config.json of a saved decoder (e.g. after tuning alpha/beta),
        each through a temporary file renamed into place; the KenLM file is left alone."""
        write_decoder_params(save_directory, self.lm_params, self.search)

    @staticmethod
    def exists_in(directory: str | os.PathLike) -> bool:
        """Whether `directory` holds a saved decoder (a `language_model/` folder)."""
        return has_saved_decoder(directory)

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, **overrides: Any) -> LMDecoder:
        """Load a decoder saved by `save_pretrained` (or pyctcdecode's `save_to_dir`); `overrides` replace saved
        alpha/beta/... and search settings. Missing or unreadable files raise errors naming the path: there is no
        silent fallback to decoding without the LM."""
        folder = read_decoder_folder(directory)
        params = {**folder.lm_params, **folder.search, **overrides}
        return cls(folder.labels, folder.kenlm_path, folder.unigrams, ngram_tables=folder.ngram_tables, **params)


__all__ = ["LMDecoder", "LMDecoderOutput"]
