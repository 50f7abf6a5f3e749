"""Optional second backend: flashlight-text's lexicon beam search (C++) via torchaudio's `ctc_decoder`.

Reads the same folder as `LMDecoder` (alphabet.json, language_model/{lm.bin, unigrams.txt, attrs.json}); the
lexicon is built from the unigrams (each word spelled letter by letter, then the word delimiter `|`).
Differences from pyctcdecode: only lexicon words can be output (out-of-vocabulary words become the nearest
lexicon word), and scores are log10 KenLM * lm_weight, so lm_weight = alpha * ln(10) matches pyctcdecode's alpha.
Needs `pip install flashlight-text`.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..modeling.ctc_labels import UNK_LABEL, to_log_probs
from ..modeling.decoder_options import (
    check_labels,
    check_lm_params,
    check_strings,
    decode_settings,
    finite_number,
    positive_int,
)
from ..modeling.fork_pool import fork_map
from ..modeling.lm_decoder import LMDecoderOutput
from ..modeling.lm_decoder_folder import check_kenlm_file, read_decoder_folder

# pyctcdecode labels -> flashlight token names (flashlight needs non-empty, space-free tokens).
BLANK, SILENCE, UNK = "<pad>", "|", "<unk>"


class FlashlightLMDecoder:
    """Lexicon-constrained CTC beam search with KenLM, in C++ (`decode`/`decode_batch` like `LMDecoder`).

    beam_size_token: labels tried per frame (None = all); beam_threshold: drop hypotheses this far below the best.
    Options are checked like `LMDecoder`'s (`decoder_options.py`); they are fixed when the decoder is built.
    """

    def __init__(
        self,
        labels: Sequence[str],
        kenlm_path: str | os.PathLike,
        unigrams: Sequence[str],
        alpha: float = 0.5,
        beta: float = 1.0,
        unk_score_offset: float = -10.0,
        beam_width: int = 100,
        beam_size_token: int | None = None,
        beam_threshold: float = 25.0,
    ) -> None:
        try:
            from torchaudio.models.decoder import ctc_decoder
        except ImportError as error:
            raise ImportError(f"the flashlight backend needs `pip install flashlight-text` ({error})") from None
        lm_params = check_lm_params(alpha=alpha, beta=beta, unk_score_offset=unk_score_offset)
        beam_width = positive_int("beam_width", beam_width)
        beam_size_token = None if beam_size_token is None else positive_int("beam_size_token", beam_size_token)
        beam_threshold = finite_number("beam_threshold", beam_threshold)
        if beam_threshold < 0:
            raise ValueError(f"beam_threshold must be >= 0 (a score margin), got {beam_threshold}")
        unigrams = check_strings("unigrams", unigrams)
        check_kenlm_file(kenlm_path)
        self.labels = check_labels(labels)
        self.tokens = [{"": BLANK, " ": SILENCE, UNK_LABEL: UNK}.get(label, label) for label in self.labels]
        letters = set(self.tokens)
        with tempfile.TemporaryDirectory() as tmp:
            lexicon = Path(tmp) / "lexicon.txt"
            with lexicon.open("w", encoding="utf-8") as file:
                for word in unigrams:
                    if word and set(word) <= letters:  # words the model cannot spell are left out
                        file.write(f"{word}\t{' '.join(word)} {SILENCE}\n")
            self._decoder = ctc_decoder(
                lexicon=str(lexicon),
                tokens=self.tokens,
                lm=str(kenlm_path),
                beam_size=beam_width,
                beam_size_token=beam_size_token,
                beam_threshold=beam_threshold,
                lm_weight=lm_params["alpha"] * math.log(10),
                word_score=lm_params["beta"],
                unk_score=lm_params["unk_score_offset"],
                sil_score=0.0,
                blank_token=BLANK,
                sil_token=SILENCE,
                unk_word=UNK,
            )

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, **overrides: Any) -> FlashlightLMDecoder:
        """Build from a folder saved by `LMDecoder.save_pretrained`; `overrides` replace saved settings."""
        folder = read_decoder_folder(directory)
        settings = {
            "alpha": folder.lm_params["alpha"],
            "beta": folder.lm_params["beta"],
            "unk_score_offset": folder.lm_params["unk_score_offset"],
            "beam_width": folder.search.get("beam_width", 100),
            **overrides,
        }
        return cls(folder.labels, folder.kenlm_path, folder.unigrams, **settings)

    def _decode_one(self, log_probs: Any) -> tuple[str, list[dict[str, Any]]]:
        if len(log_probs) == 0:
            return "", []
        emissions = torch.from_numpy(log_probs)[None]  # (1, T, V)
        best = self._decoder(emissions)[0][0]
        return " ".join(best.words), _word_offsets(best, self.tokens)

    def decode_beams(self, logits: Any, **overrides: Any) -> list[tuple]:
        """Best hypothesis in pyctcdecode's `decode_beams` format, so the ASR pipeline can use this decoder:
        [(text, None, [(word, (start, end))], 0.0, 0.0)] (scores are not reported).

        Per-call options (the pipeline's `decoder_kwargs`) are refused rather than ignored: flashlight's settings
        are fixed when it is built (`from_pretrained(folder, beam_width=...)`) and it has no hotwords."""
        decode_settings({}, overrides)
        if overrides:
            raise ValueError(
                f"the flashlight backend cannot change {sorted(overrides)} per call; pass search settings to "
                "FlashlightLMDecoder.from_pretrained (hotwords need the pyctcdecode backend)"
            )
        text, offsets = self._decode_one(to_log_probs(logits, len(self.labels)))
        return [(text, None, [(o["word"], (o["start_offset"], o["end_offset"])) for o in offsets], 0.0, 0.0)]

    def decode(self, logits: Any) -> str:
        """(T, V) logits or log-probs -> best transcript."""
        return self._decode_one(to_log_probs(logits, len(self.labels)))[0]

    def decode_batch(self, logits: Sequence[Any], *, num_processes: int | None = 1) -> LMDecoderOutput:
        """Decode utterances, in forked workers when num_processes > 1 (None = one per CPU)."""
        items = [to_log_probs(x, len(self.labels), f"utterance {i}") for i, x in enumerate(logits)]
        torch_threads = torch.get_num_threads()
        torch.set_num_threads(1)  # the search is single-threaded C++; torch threads would only contend with workers
        try:
            results = fork_map(self._decode_one, items, num_processes)
        finally:
            torch.set_num_threads(torch_threads)
        return LMDecoderOutput(text=[r[0] for r in results], word_offsets=[r[1] for r in results])


def _word_offsets(hypothesis: Any, tokens: list[str]) -> list[dict[str, Any]]:
    """Frame spans of each word: its letters' first and last time steps (end exclusive)."""
    spans: list[list[int]] = []
    current: list[int] = []
    for token_id, step in zip(hypothesis.tokens.tolist(), hypothesis.timesteps.tolist()):
        token = tokens[token_id]
        if token in (SILENCE, BLANK):
            if current:
                spans.append(current)
                current = []
        else:
            current.append(step)
    if current:
        spans.append(current)
    return [
        {"word": word, "start_offset": span[0], "end_offset": span[-1] + 1}
        for word, span in zip(hypothesis.words, spans)
    ]
