"""Grid search of the LM weight alpha and word bonus beta on precomputed dev logits (no model needed).

Logits are computed once by the caller; each grid point decodes every utterance with its (alpha, beta) in a
forked worker (workers share the KenLM model), and the point with the lowest corpus WER wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..metrics import error_rates
from ..modeling.ctc_labels import greedy_ids, to_log_probs
from ..modeling.decoder_options import check_grid, check_strings, decode_settings
from ..modeling.fork_pool import fork_map
from ..modeling.lm_decoder import LMDecoder

DEFAULT_ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
DEFAULT_BETAS = (-1.0, 0.0, 0.5, 1.0, 2.0, 3.0)


@dataclass
class TuningResult:
    """Best (alpha, beta) and the WER of every grid point (`grid`: dicts with alpha, beta, wer)."""

    alpha: float
    beta: float
    wer: float
    grid: list[dict[str, float]]

    def table(self) -> str:
        """The grid as text: one row per alpha, one column per beta, WER in %; the best marked with *."""
        alphas = sorted({p["alpha"] for p in self.grid})
        betas = sorted({p["beta"] for p in self.grid})
        wer = {(p["alpha"], p["beta"]): p["wer"] for p in self.grid}
        lines = ["alpha\\beta " + "".join(f"{b:>9g}" for b in betas)]
        for a in alphas:
            cells = []
            for b in betas:
                mark = "*" if (a, b) == (self.alpha, self.beta) else " "
                cells.append(f"{100 * wer[(a, b)]:>8.2f}{mark}" if (a, b) in wer else f"{'-':>9}")
            lines.append(f"{a:>10g} " + "".join(cells))
        return "\n".join(lines)


def tune_alpha_beta(
    decoder: LMDecoder,
    logits: Sequence[Any],
    references: Sequence[str],
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    betas: Sequence[float] = DEFAULT_BETAS,
    num_processes: int | None = None,
    progress: bool = True,
    **search: Any,
) -> TuningResult:
    """Decode `logits` (list of (T_i, V)) at every (alpha, beta) and return the one with the lowest WER.

    `search` overrides decoding settings (e.g. beam_width=20 for speed). Ties go to the smaller |beta|, then
    the smaller alpha. The decoder itself is left unchanged; apply the result with `decoder.set_params`.
    Empty or non-finite grids, bad settings and bad logits raise errors naming them before any decoding.
    """
    if len(logits) != len(references) or not references:
        raise ValueError(f"need as many references as logits (>0): got {len(references)} and {len(logits)}")
    references = check_strings("references", references)
    if not decoder.lm_params:
        raise ValueError("the decoder has no language model: there is no alpha/beta to tune")
    points = [(a, b) for a in check_grid("alphas", alphas) for b in check_grid("betas", betas)]
    decode_settings(decoder.search, search)
    log_probs = [to_log_probs(x, len(decoder.labels), f"utterance {i}") for i, x in enumerate(logits)]

    def score(point: tuple[float, float]) -> float:
        # Runs in a forked worker: changing the decoder there leaves the caller's copy alone.
        decoder.set_params(alpha=point[0], beta=point[1])
        hypotheses = decoder.decode_batch(log_probs, num_processes=1, **search).text  # batched: all at once
        return error_rates(hypotheses, references, names=("wer",))["wer"]

    original = decoder.lm_params
    with tqdm(total=len(points), desc="tuning alpha/beta", unit="point", disable=not progress) as bar:
        try:
            wers = fork_map(score, points, num_processes, on_result=bar.update)
        finally:
            decoder.set_params(alpha=original["alpha"], beta=original["beta"])  # in case it ran in this process
    grid = [{"alpha": a, "beta": b, "wer": w} for (a, b), w in zip(points, wers)]
    best = min(grid, key=lambda p: (round(p["wer"], 12), abs(p["beta"]), p["alpha"]))
    return TuningResult(alpha=best["alpha"], beta=best["beta"], wer=best["wer"], grid=grid)


def greedy_wer(logits: Sequence[np.ndarray], references: Sequence[str], labels: Sequence[str]) -> float:
    """Corpus WER of greedy CTC decoding (argmax, collapse repeats, drop blank "") with pyctcdecode-style labels.

    NaN/inf logits raise an error naming the utterance."""
    references = check_strings("references", references)
    hypotheses = []
    for index, x in enumerate(logits):
        best = greedy_ids(x, len(labels), f"utterance {index}")
        keep = np.ones(len(best), dtype=bool)
        keep[1:] = best[1:] != best[:-1]
        hypotheses.append(" ".join("".join(labels[i] for i in best[keep]).split()))
    return error_rates(hypotheses, references, names=("wer",))["wer"]
