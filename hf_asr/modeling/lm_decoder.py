"""LMDecoder: CTC beam search with a KenLM n-gram language model (pyctcdecode), saved beside the model.

This file ships to the Hub with the model as remote code, so it imports only the standard library, numpy,
pyctcdecode, kenlm and transformers. Folder layout written by `save_pretrained` (pyctcdecode's own layout, so
`pyctcdecode.BeamSearchDecoderCTC.load_from_dir` reads it too, plus one file for the search settings):

    alphabet.json                  {"labels": [...], "is_bpe": false}, one label per CTC output id
    language_model/attrs.json      alpha, beta, unk_score_offset, score_boundary
    language_model/unigrams.txt    the LM's words, one per line
    language_model/lm.bin          the KenLM model (binary; `lm.arpa` when built from an ARPA file)
    lm_decoder_config.json         beam_width, beam_prune_logp, token_min_logp, hotword_weight
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic_write import atomic_write_text, staged_folder

try:  # optional at import time, so a model folder without an LM loads without pyctcdecode/kenlm installed
    import kenlm
    from pyctcdecode import Alphabet, BeamSearchDecoderCTC, LanguageModel
except ImportError as _error:  # pragma: no cover - exercised only where the packages are missing
    kenlm = None
    _IMPORT_ERROR: ImportError | None = _error
else:
    _IMPORT_ERROR = None

LM_DIR = "language_model"
ALPHABET_FILE = "alphabet.json"
ATTRS_FILE = "attrs.json"
UNIGRAMS_FILE = "unigrams.txt"
SEARCH_CONFIG_FILE = "lm_decoder_config.json"
UNK_LABEL = "⁇"  # pyctcdecode's label for <unk>
SEARCH_DEFAULTS = {"beam_width": 100, "beam_prune_logp": -10.0, "token_min_logp": -5.0, "hotword_weight": 10.0}


@dataclass
class LMDecoderOutput:
    """Beam-search results for a batch of utterances (the same fields as transformers' WithLM output).

    word_offsets[i] is a list of {"word", "start_offset", "end_offset"}: logit frames, end exclusive.
    """

    text: list[str]
    word_offsets: list[list[dict[str, Any]]] = field(default_factory=list)
    logit_score: list[float] = field(default_factory=list)
    lm_score: list[float] = field(default_factory=list)


def ctc_labels(tokenizer: Any) -> list[str]:
    """pyctcdecode labels in id order for a Wav2Vec2CTCTokenizer: pad (blank) -> "", `|` -> " ", unk -> "⁇"."""
    vocab = tokenizer.get_vocab()
    id_to_token = {index: token for token, index in vocab.items()}
    if sorted(id_to_token) != list(range(len(id_to_token))):
        raise ValueError(f"tokenizer ids are not contiguous from 0: {sorted(id_to_token)[:10]}...")
    special = {
        tokenizer.pad_token: "",
        getattr(tokenizer, "word_delimiter_token", "|"): " ",
        tokenizer.unk_token: UNK_LABEL,
    }
    others = [t for t in tokenizer.all_special_tokens if t not in special]
    if others:
        raise ValueError(
            f"tokenizer has special tokens {others} that CTC decoding would print as text; build it with "
            "bos_token=None, eos_token=None (only <pad>, <unk> and | are expected)"
        )
    return [special.get(id_to_token[i], id_to_token[i]) for i in range(len(id_to_token))]


def to_log_probs(logits: Any, num_labels: int, name: str = "utterance 0") -> np.ndarray:
    """Validate one utterance's (T, V) logits or log-probabilities and return float32 log-probabilities.

    Raises ValueError naming `name` when: the array is not 2-D; V != `num_labels`; a value is NaN or +inf, or a
    whole frame is -inf (a lone -inf is log(0) and is accepted); the input looks like probabilities (every value
    >= 0 and each frame sums to 1), because decoding those as log-probabilities would silently give garbage.
    """
    if hasattr(logits, "detach"):  # torch tensor, without importing torch here
        logits = logits.detach().float().cpu().numpy()
    array = np.asarray(logits, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"{name}: logits must be (frames, {num_labels}), got shape {array.shape}")
    if array.shape[1] != num_labels:
        raise ValueError(
            f"{name}: logits have {array.shape[1]} classes per frame but the decoder's alphabet has {num_labels} "
            "labels; use the decoder saved with this model (same tokenizer)"
        )
    if array.shape[0] == 0:
        return array
    bad = np.isnan(array) | np.isposinf(array) | np.isneginf(array).all(axis=1, keepdims=True)
    if bad.any():
        frame = int(np.argwhere(bad)[0, 0])
        raise ValueError(f"{name}: logits hold NaN or inf (first at frame {frame}: {array[frame, :6].tolist()}...)")
    if (array >= 0).all() and np.allclose(array.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            f"{name}: these look like probabilities (all >= 0, each frame sums to 1); pass logits or "
            "log-probabilities instead (e.g. np.log(probs) or the model's raw logits)"
        )
    peak = array.max(axis=1, keepdims=True)
    return array - (peak + np.log(np.exp(array - peak).sum(axis=1, keepdims=True)))  # log-softmax


def repeated_single_candidate_frames(log_probs: np.ndarray, token_min_logp: float) -> np.ndarray:
    """(T,) bool: frames beam search can skip without changing its result.

    pyctcdecode expands a frame only with labels whose log-prob >= token_min_logp (plus the argmax). When frame
    t-1 and frame t each have one such label and it is the same, frame t only adds the same score to every beam
    (a repeat or a blank run): rankings, pruning and texts are unchanged. Dropping those frames is exact.
    """
    single = (log_probs >= token_min_logp).sum(axis=1) <= 1
    best = log_probs.argmax(axis=1)
    skip = np.zeros(len(log_probs), dtype=bool)
    skip[1:] = single[1:] & single[:-1] & (best[1:] == best[:-1])
    return skip


_WORKER_FN: Callable[[Any], Any] | None = None  # set before forking, so workers inherit the decoder unpickled


def _call_worker(item: Any) -> Any:
    return _WORKER_FN(item)


def fork_map(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    num_processes: int | None,
    on_result: Callable[[], None] | None = None,
) -> list[Any]:
    """`[fn(x) for x in items]`, over `num_processes` forked workers when > 1 (None: one per CPU), in order.

    Forking lets workers share the loaded KenLM model instead of pickling it. Where fork is unavailable
    (Windows, macOS spawn default), it runs serially. `on_result` is called after each item (progress bars).
    """
    global _WORKER_FN
    if num_processes is None:
        num_processes = os.cpu_count() or 1
    num_processes = min(num_processes, len(items))
    results = []
    if num_processes <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for x in items:
            results.append(fn(x))
            if on_result:
                on_result()
        return results
    _WORKER_FN = fn
    try:
        with multiprocessing.get_context("fork").Pool(num_processes) as pool:
            chunksize = max(1, len(items) // (8 * num_processes))
            for result in pool.imap(_call_worker, items, chunksize=chunksize):
                results.append(result)
                if on_result:
                    on_result()
    finally:
        _WORKER_FN = None
    return results


class LMDecoder:
    """pyctcdecode beam search + KenLM over CTC logits; `kenlm_path=None` gives beam search without an LM.

    alpha: LM weight; beta: word insertion bonus; unk_score_offset: log-score added for words outside `unigrams`.
    Search settings (overridable per call): beam_width, beam_prune_logp (drop beams this far below the best),
    token_min_logp (ignore labels below this log-prob unless argmax), hotword_weight (with per-call hotwords).
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
        **search: float,
    ) -> None:
        if _IMPORT_ERROR is not None:
            raise ImportError(
                f"LM decoding needs pyctcdecode and kenlm (pip install pyctcdecode kenlm): {_IMPORT_ERROR}"
            )
        unknown = set(search) - set(SEARCH_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown decoder setting(s) {sorted(unknown)}; known: {sorted(SEARCH_DEFAULTS)}")
        self.search = {**SEARCH_DEFAULTS, **search}
        self.kenlm_path = None if kenlm_path is None else Path(kenlm_path)
        self.unigrams = _load_unigrams(self.kenlm_path, unigrams)
        language_model = None
        if self.kenlm_path is not None:
            language_model = LanguageModel(
                _load_kenlm(self.kenlm_path),
                self.unigrams,
                alpha=alpha,
                beta=beta,
                unk_score_offset=unk_score_offset,
                score_boundary=score_boundary,
            )
        self._decoder = BeamSearchDecoderCTC(Alphabet.build_alphabet(list(labels)), language_model)
        self.labels = self._decoder._alphabet.labels

    @classmethod
    def from_tokenizer(cls, tokenizer: Any, kenlm_path: str | os.PathLike | None, **kwargs: Any) -> LMDecoder:
        """Decoder whose labels follow `tokenizer`'s ids (see `ctc_labels`)."""
        return cls(ctc_labels(tokenizer), kenlm_path, **kwargs)

    @property
    def lm_params(self) -> dict[str, Any]:
        """alpha, beta, unk_score_offset, score_boundary (empty without an LM)."""
        lm = self._decoder._language_model
        return {} if lm is None else {k: getattr(lm, k) for k in LanguageModel.JSON_ATTRS}

    def set_params(self, **params: Any) -> None:
        """Change alpha/beta/unk_score_offset/score_boundary and/or search settings in place."""
        lm_keys = {k: params.pop(k) for k in list(params) if k in LanguageModel.JSON_ATTRS}
        unknown = set(params) - set(SEARCH_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown decoder setting(s) {sorted(unknown)}")
        if lm_keys:
            if self._decoder._language_model is None:
                raise ValueError(f"cannot set {sorted(lm_keys)}: this decoder has no language model")
            self._decoder._language_model.reset_params(**lm_keys)
        self.search.update(params)

    def decode_beams(self, logits: Any, name: str = "utterance 0", **overrides: Any) -> list[tuple]:
        """pyctcdecode's `decode_beams` output for one (T, V) utterance: [(text, None, [(word, (start, end))],
        logit_score, lm_score), ...], best first; frames index `logits`. Used by the ASR pipeline."""
        unknown = set(overrides) - set(SEARCH_DEFAULTS) - {"hotwords", "prune_history"}
        if unknown:
            raise TypeError(f"unknown decoding option(s) {sorted(unknown)}; known: {sorted(SEARCH_DEFAULTS)}, hotwords")
        settings = {**self.search, **overrides}
        hotwords = [w for w in (settings.pop("hotwords", None) or []) if w.strip()] or None  # [] / blanks = none
        log_probs = to_log_probs(logits, len(self.labels), name)
        if len(log_probs) == 0:  # pyctcdecode fails on zero frames; an empty utterance has an empty transcript
            return [("", None, [], 0.0, 0.0)]
        skip = repeated_single_candidate_frames(log_probs, settings["token_min_logp"])
        kept_frames = np.flatnonzero(~skip)
        # Frame k of the shortened matrix stands for original frames kept_frames[k] .. run_end[k] - 1.
        run_end = np.append(kept_frames[1:], len(log_probs))
        skipped_score = float(log_probs[skip].max(axis=1).sum()) if skip.any() else 0.0
        beams = self._decoder.decode_beams(
            log_probs[kept_frames],
            beam_width=int(settings["beam_width"]),
            beam_prune_logp=settings["beam_prune_logp"],
            token_min_logp=settings["token_min_logp"],
            prune_history=settings.get("prune_history", True),  # only the best beam is used
            hotwords=hotwords,
            hotword_weight=settings["hotword_weight"],
        )
        return [
            (
                text,
                None,  # the KenLM state cannot cross processes and nothing here needs it
                [(word, (int(kept_frames[s]), int(run_end[e - 1]))) for word, (s, e) in frames],
                logit_score + skipped_score,
                lm_score + skipped_score,
            )
            for text, _, frames, logit_score, lm_score in beams
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
        All inputs are validated before any decoding, so a bad one fails fast and is named by its index.
        """
        if logit_lengths is not None:
            logits = [logits[i][: int(n)] for i, n in enumerate(logit_lengths)]
        items = [to_log_probs(x, len(self.labels), f"utterance {i}") for i, x in enumerate(logits)]
        beams = fork_map(lambda x: self.decode_beams(x, **overrides)[0], items, num_processes)
        return LMDecoderOutput(
            text=[b[0] for b in beams],
            word_offsets=[[{"word": w, "start_offset": s, "end_offset": e} for w, (s, e) in b[2]] for b in beams],
            logit_score=[b[3] for b in beams],
            lm_score=[b[4] for b in beams],
        )

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> None:
        """Write the decoder files into `save_directory` (see module docstring), replacing older ones atomically:
        `language_model/` is written in a hidden sibling folder and swapped into place, each JSON file is
        written beside its target and renamed over it."""
        directory = Path(save_directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.kenlm_path is None:
            raise ValueError("this decoder has no language model to save; build one with `hf-asr build-lm`")
        lm_name = "lm.arpa" if self.kenlm_path.suffix == ".arpa" else "lm.bin"
        with staged_folder(directory / LM_DIR) as lm_dir:
            shutil.copyfile(self.kenlm_path, lm_dir / lm_name)
            (lm_dir / UNIGRAMS_FILE).write_text("".join(w + "\n" for w in sorted(self.unigrams)), encoding="utf-8")
            (lm_dir / ATTRS_FILE).write_text(json.dumps(self.lm_params, indent=1))
        atomic_write_text(directory / ALPHABET_FILE, self._decoder._alphabet.dumps())
        atomic_write_text(directory / SEARCH_CONFIG_FILE, json.dumps(self.search, indent=1))
        if self.kenlm_path.resolve().parent == (directory / LM_DIR).resolve():  # re-saved where it was loaded from
            self.kenlm_path = directory / LM_DIR / lm_name

    def save_params(self, save_directory: str | os.PathLike) -> None:
        """Rewrite only attrs.json and lm_decoder_config.json of a saved decoder (e.g. after tuning alpha/beta),
        each through a temporary file renamed into place; the KenLM file is left alone."""
        directory = Path(save_directory)
        if not self.exists_in(directory):
            raise FileNotFoundError(f"no saved LM decoder in {directory} (missing {directory / LM_DIR})")
        atomic_write_text(directory / LM_DIR / ATTRS_FILE, json.dumps(self.lm_params, indent=1))
        atomic_write_text(directory / SEARCH_CONFIG_FILE, json.dumps(self.search, indent=1))

    @staticmethod
    def exists_in(directory: str | os.PathLike) -> bool:
        """Whether `directory` holds a saved decoder (a `language_model/` folder)."""
        return (Path(directory) / LM_DIR).is_dir()

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, **overrides: Any) -> LMDecoder:
        """Load a decoder saved by `save_pretrained` (or pyctcdecode's `save_to_dir`); `overrides` replace saved
        alpha/beta/... and search settings. Missing or unreadable files raise errors naming the path: there is no
        silent fallback to decoding without the LM."""
        directory = Path(directory)
        lm_dir = directory / LM_DIR
        alphabet_file = directory / ALPHABET_FILE
        for required in (lm_dir, alphabet_file, lm_dir / ATTRS_FILE, lm_dir / UNIGRAMS_FILE):
            if not required.exists():
                raise FileNotFoundError(f"LM decoder file {required} is missing (write it with save_pretrained)")
        lm_files = sorted(p for p in lm_dir.iterdir() if p.suffix in (".bin", ".binary", ".arpa"))
        if len(lm_files) != 1:
            found = [p.name for p in lm_files]
            raise FileNotFoundError(f"expected one KenLM file (.bin/.arpa) in {lm_dir}, found {found}")
        alphabet = Alphabet.loads(_read_text(alphabet_file))
        params = json.loads(_read_text(lm_dir / ATTRS_FILE))
        search_file = directory / SEARCH_CONFIG_FILE
        if search_file.exists():
            params.update(json.loads(_read_text(search_file)))
        params.update(overrides)
        unigrams = _read_text(lm_dir / UNIGRAMS_FILE).splitlines()
        return cls(alphabet.labels, lm_files[0], unigrams, **params)


def find_saved_decoder(name_or_path: str | os.PathLike, **hub_kwargs: Any) -> Path | None:
    """Local folder holding the decoder files of a model folder or Hub repo, or None if it has no LM.

    A Hub repo's files are fetched into transformers' cache (its snapshot folder keeps the layout); `hub_kwargs`
    (revision, token, cache_dir, local_files_only, ...) go to `transformers.utils.cached_file`.
    """
    if Path(name_or_path).is_dir():
        return Path(name_or_path) if LMDecoder.exists_in(name_or_path) else None
    from transformers.utils import cached_file

    hub_kwargs = {k: v for k, v in hub_kwargs.items() if k in ("revision", "token", "cache_dir", "local_files_only")}
    attrs = cached_file(
        str(name_or_path),
        f"{LM_DIR}/{ATTRS_FILE}",
        _raise_exceptions_for_missing_entries=False,
        _raise_exceptions_for_connection_errors=False,
        **hub_kwargs,
    )
    if attrs is None:
        return None
    for name in (ALPHABET_FILE, f"{LM_DIR}/{UNIGRAMS_FILE}", SEARCH_CONFIG_FILE, f"{LM_DIR}/lm.bin"):
        cached_file(str(name_or_path), name, _raise_exceptions_for_missing_entries=False, **hub_kwargs)
    return Path(attrs).parents[1]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read LM decoder file {path}: {error}") from error


def _load_kenlm(path: Path) -> kenlm.Model:
    if not path.is_file():
        raise FileNotFoundError(f"KenLM model {path} does not exist (build one with `hf-asr build-lm`)")
    try:
        return kenlm.Model(str(path))
    except (OSError, RuntimeError) as error:
        raise ValueError(f"cannot load KenLM model {path}: corrupt or not a KenLM file ({error})") from None


def _load_unigrams(kenlm_path: Path | None, unigrams: Iterable[str] | None) -> list[str]:
    """The LM's word list: given, or read from an ARPA file. A binary LM needs them given: pyctcdecode cannot read
    them from it and would silently treat every word as unknown."""
    if unigrams is not None:
        words = sorted({w.strip() for w in unigrams if w.strip()})
    elif kenlm_path is None:
        return []
    elif kenlm_path.suffix == ".arpa":
        from pyctcdecode.language_model import load_unigram_set_from_arpa

        words = sorted(load_unigram_set_from_arpa(str(kenlm_path)))
    else:
        raise ValueError(f"pass unigrams= (the LM's word list, e.g. unigrams.txt beside it) for binary LM {kenlm_path}")
    if kenlm_path is not None and not words:
        raise ValueError(f"the unigram list for {kenlm_path} is empty")
    return words
