"""The one binding to pyctcdecode and kenlm: loading the KenLM model and its words, building pyctcdecode's
beam search, and reading what pyctcdecode keeps private (labels, LM parameters, alphabet JSON).

pyctcdecode and kenlm are imported inside `try`, so a model folder without an LM loads (also as remote code,
which transformers checks for its imports) where they are not installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .decoder_options import LM_PARAM_NAMES, check_labels, check_strings
from .lm_decoder_folder import check_kenlm_file

try:  # optional at import time, so a model folder without an LM loads without pyctcdecode/kenlm installed
    import kenlm
    from pyctcdecode import Alphabet, BeamSearchDecoderCTC, LanguageModel
    from pyctcdecode.language_model import load_unigram_set_from_arpa
except ImportError as _error:  # pragma: no cover - exercised only where the packages are missing
    kenlm = None
    _IMPORT_ERROR: ImportError | None = _error
else:
    _IMPORT_ERROR = None


def require_pyctcdecode() -> None:
    """Raise ImportError, with the install command, where pyctcdecode or kenlm is missing."""
    if _IMPORT_ERROR is not None:
        raise ImportError(f"LM decoding needs pyctcdecode and kenlm (pip install pyctcdecode kenlm): {_IMPORT_ERROR}")


class PyctcdecodeBeamSearch:
    """pyctcdecode's `BeamSearchDecoderCTC` over `labels`, with a KenLM model when `kenlm_path` is given.

    `lm_params` (alpha, beta, unk_score_offset, score_boundary) go to pyctcdecode's `LanguageModel`.
    """

    def __init__(
        self, labels: Sequence[str], kenlm_path: Path | None, unigrams: Sequence[str], **lm_params: Any
    ) -> None:
        require_pyctcdecode()
        labels = check_labels(labels)
        language_model = None
        if kenlm_path is not None:
            language_model = LanguageModel(load_kenlm(kenlm_path), unigrams, **lm_params)
        self._decoder = BeamSearchDecoderCTC(Alphabet.build_alphabet(labels), language_model)
        if len(self.labels) != len(labels):  # pyctcdecode appended a blank: the alphabet no longer fits the logits
            raise ValueError(
                f"labels have no CTC blank ('' or <pad>), so they cannot match the model's {len(labels)} outputs; "
                "build them with ctc_labels(tokenizer)"
            )

    @property
    def labels(self) -> list[str]:
        """The normalised labels, one per CTC output id (a new list each time)."""
        return self._decoder._alphabet.labels

    @property
    def lm_params(self) -> dict[str, Any]:
        """alpha, beta, unk_score_offset, score_boundary (empty without an LM)."""
        lm = self._decoder._language_model
        return {} if lm is None else {k: getattr(lm, k) for k in LM_PARAM_NAMES}

    def reset_lm_params(self, **params: Any) -> None:
        """Change some of alpha/beta/unk_score_offset/score_boundary in place."""
        if self._decoder._language_model is None:
            raise ValueError(f"cannot set {sorted(params)}: this decoder has no language model")
        self._decoder._language_model.reset_params(**params)

    def alphabet_json(self) -> str:
        """alphabet.json's content: {"labels": [...], "is_bpe": false}."""
        return self._decoder._alphabet.dumps()

    def decode_beams(self, log_probs: np.ndarray, **settings: Any) -> list[tuple]:
        """pyctcdecode's `decode_beams` on (T, V) log-probs: [(text, lm_state, [(word, (start, end))],
        logit_score, lm_score), ...], best first; `settings` are its keyword arguments (beam_width, ...)."""
        with np.errstate(over="ignore"):  # pyctcdecode sums each frame; huge negative log-probs overflow to -inf
            return self._decoder.decode_beams(log_probs, **settings)


def load_kenlm(path: Path) -> kenlm.Model:
    """The KenLM model at `path`; errors name the path (see `check_kenlm_file`)."""
    check_kenlm_file(path)
    try:
        return kenlm.Model(str(path))
    except (OSError, RuntimeError, ValueError) as error:  # ValueError: kenlm's UnicodeDecodeError on binary junk
        raise ValueError(f"cannot load KenLM model {path}: corrupt or not a KenLM file ({error})") from error


def lm_words(kenlm_path: Path | None, unigrams: Iterable[str] | None) -> list[str]:
    """The LM's word list, sorted and deduplicated: given, or read from an ARPA file. A binary LM needs them given:
    pyctcdecode cannot read them from it and would silently treat every word as unknown."""
    if unigrams is not None:
        words = sorted({w.strip() for w in check_strings("unigrams", unigrams) if w.strip()})
    elif kenlm_path is None:
        return []
    elif kenlm_path.suffix == ".arpa":
        words = sorted(load_unigram_set_from_arpa(str(kenlm_path)))
    else:
        raise ValueError(f"pass unigrams= (the LM's word list, e.g. unigrams.txt beside it) for binary LM {kenlm_path}")
    if kenlm_path is not None and not words:
        raise ValueError(f"the unigram list for {kenlm_path} is empty")
    return words
