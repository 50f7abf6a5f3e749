"""CTC prefix beam search over a whole batch at once, with the word n-gram LM held in tensors (`tensor_lm.py`).

Every utterance keeps `beam_width` hypotheses; one frame of all of them is a fixed handful of tensor operations,
so the Python loop runs once per frame of the longest utterance, not once per hypothesis and label as in
pyctcdecode. The rules are pyctcdecode's, so the results match it (tests compare them):

- a frame expands each hypothesis with the labels whose log-prob is >= token_min_logp (and always the argmax);
  blank and a repeat of the last label keep the text, a space ends the partial word, any other label extends it;
- hypotheses with the same text and last label are merged (log-sum of their acoustic scores);
- a finished word adds alpha * ln(10) * (log10 p(word | history) + unk_score_offset if out of vocabulary) + beta;
  a partial word that no unigram starts with adds unk_score_offset (scaled by its length beyond 6 characters);
- hypotheses below the best + beam_prune_logp are dropped, then the best beam_width are kept;
- at the end the partial word is scored as the last word, with </s> when score_boundary (an empty one, where the
  text ends with a space, as an unknown word: pyctcdecode's rule), and hypotheses of the same text are merged.

Not supported: hotwords and prune_history. A word's end frame may differ from pyctcdecode's by a frame (both are
alignments of the same text; this one is the best-scoring member's of each merge). Texts are identified by two
31-bit rolling hashes (a collision, ~1e-18 per pair, would merge two hypotheses).

Torch and numpy only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .tensor_lm import LN_10, OFF_TRIE, SpellingTrie, TensorNgramLM

# Two rolling hashes modulo primes < 2**31, so that products stay inside int64.
_PRIMES, _MODULI = (1_000_003, 1_000_033), (2_147_483_647, 2_147_483_629)
_M2 = _MODULI[1]
_P_LAST = 7_919
_SPACE_CODE = 0  # labels hash as id + 1, a finished word as 0
_AVG_WORD_LEN = 6  # pyctcdecode's AVG_TOKEN_LEN: longer unknown partial words are penalised in proportion


@dataclass
class BestPath:
    """The best hypothesis of one utterance: its label per frame (the alignment), acoustic and total score."""

    labels: np.ndarray
    logit_score: float
    score: float


@dataclass
class _Beams:
    """(B, K) tensors: one row of hypotheses per utterance."""

    acoustic: torch.Tensor  # float32; -inf for an empty slot
    lm_total: torch.Tensor  # float32: weighted LM scores of the finished words and word bonuses
    lm_state: torch.Tensor  # int64 n-gram state
    trie: torch.Tensor  # int64 node of the partial word (OFF_TRIE: no unigram starts with it)
    partial_len: torch.Tensor  # int64 characters of the partial word
    last: torch.Tensor  # int64 last label (blank after a blank)
    hashes: torch.Tensor  # (B, K, 2) int64: the text's two rolling hashes

    def fields(self) -> list[torch.Tensor]:
        return [getattr(self, name) for name in self.__dataclass_fields__]

    def gather(self, index: torch.Tensor) -> _Beams:
        return _Beams(*(_gather(x, index) for x in self.fields()))


def _gather(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x[b, index[b, k]] for (B, N) or (B, N, 2) `x`."""
    if x.dim() == 3:
        return x.gather(1, index[:, :, None].expand(-1, -1, x.shape[2]))
    return x.gather(1, index)


class BatchedBeamSearch:
    """Beam search of padded (B, T, V) log-probs on `lm`'s device; `lm=None` decodes without a language model."""

    def __init__(
        self,
        labels: Sequence[str],
        lm: TensorNgramLM | None,
        unigrams: Sequence[str],
        *,
        alpha: float = 0.5,
        beta: float = 1.0,
        unk_score_offset: float = -10.0,
        score_boundary: bool = True,
    ) -> None:
        self.labels = list(labels)
        self.blank_id = self.labels.index("")
        self.space_id = self.labels.index(" ") if " " in self.labels else -1
        self.lm = lm
        self.device = lm.keys.device if lm is not None else torch.device("cpu")
        self.trie = None if lm is None else SpellingTrie(unigrams, self.labels, lm, self.device)
        self.alpha, self.beta = alpha, beta
        self.unk_score_offset, self.score_boundary = unk_score_offset, score_boundary

    def to(self, device: torch.device | str) -> BatchedBeamSearch:
        """Move the LM tables to `device` (decoding then runs there)."""
        if self.lm is not None:
            for holder in (self.lm, self.trie):
                for name, value in vars(holder).items():
                    if isinstance(value, torch.Tensor):
                        setattr(holder, name, value.to(device))
        self.device = torch.device(device)
        return self

    @torch.no_grad()
    def decode(
        self,
        log_probs: Sequence[np.ndarray | torch.Tensor],
        *,
        beam_width: int,
        beam_prune_logp: float,
        token_min_logp: float,
        max_candidates: int | None = None,
    ) -> list[BestPath]:
        """The best path of each (T_i, V) log-prob array (T_i >= 1), decoded together."""
        lengths = torch.tensor([len(x) for x in log_probs], device=self.device)
        padded = torch.nn.utils.rnn.pad_sequence(
            [torch.as_tensor(x, dtype=torch.float32) for x in log_probs], batch_first=True
        ).to(self.device)
        batch, frames, _ = padded.shape
        # Candidates per frame: the labels >= token_min_logp (and the argmax) of any utterance at that frame.
        per_frame = (padded >= token_min_logp).sum(-1).amax(0).clamp(min=1, max=max_candidates).tolist()
        cand_logp, cand_ids = padded.topk(max(per_frame), dim=-1)  # (B, T, C), best first
        rank = torch.arange(cand_logp.shape[-1], device=self.device)
        cand_logp = cand_logp.masked_fill((cand_logp < token_min_logp) & (rank > 0), float("-inf"))
        self._hash_primes = torch.tensor(_PRIMES, device=self.device)
        self._hash_moduli = torch.tensor(_MODULI, device=self.device)
        beams = self._start(batch)
        parents, chosen = [], []
        shortest = int(lengths.min())
        for t in range(frames):
            c = per_frame[t]
            new, parent, label = self._step(beams, cand_ids[:, t, :c], cand_logp[:, t, :c], beam_width, beam_prune_logp)
            if t >= shortest:  # some utterances have ended: they keep their hypotheses
                active = (t < lengths)[:, None]
                width = max(new.acoustic.shape[1], beams.acoustic.shape[1])
                new, old = _widen(new, width), _widen(beams, width)
                new = _Beams(*(_keep(active, a, b) for a, b in zip(new.fields(), old.fields())))
                slots = torch.arange(width, device=self.device).expand(batch, width)
                parent = torch.where(active, _widen_index(parent, width), slots)
                label = torch.where(active, _widen_index(label, width), -1)
            beams = new
            parents.append(parent)
            chosen.append(label)
        final, acoustic = self._final_scores(beams)
        best = final.argmax(1)
        return self._backtrack(parents, chosen, best, acoustic, final, lengths)

    def _start(self, batch: int) -> _Beams:
        """One empty hypothesis per utterance."""
        width = 1
        zeros = torch.zeros(batch, width, dtype=torch.int64, device=self.device)
        acoustic = torch.zeros(batch, width, device=self.device)
        state = self.lm.start_state(self.score_boundary) if self.lm is not None else 0
        return _Beams(
            acoustic=acoustic,
            lm_total=torch.zeros(batch, width, device=self.device),
            lm_state=zeros + state,
            trie=zeros.clone(),
            partial_len=zeros.clone(),
            last=zeros + self.blank_id,
            hashes=torch.zeros(batch, width, 2, dtype=torch.int64, device=self.device),
        )

    def _partial_score(self, trie: torch.Tensor, partial_len: torch.Tensor) -> torch.Tensor:
        if self.lm is None:
            return torch.zeros(trie.shape, device=self.device)
        scale = torch.where(partial_len > _AVG_WORD_LEN, partial_len / _AVG_WORD_LEN, 1.0)
        return torch.where((trie == OFF_TRIE) & (partial_len > 0), self.unk_score_offset * scale, 0.0)

    def _word_scores(self, beams: _Beams, end_of_sentence: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, K) weighted score of finishing each partial word now (0 without an LM), and the LM state after it."""
        if self.lm is None:
            return torch.zeros_like(beams.lm_total), beams.lm_state
        words, oov = self.trie.word_at(beams.trie)
        log10, state = self.lm.score(beams.lm_state, words)
        # At the end an empty partial word (the text ends with a space, or is empty) is scored as an unknown word,
        # as pyctcdecode scores it.
        has_word = (
            beams.partial_len > 0 if not end_of_sentence else torch.ones_like(beams.partial_len, dtype=torch.bool)
        )
        raw = torch.where(has_word, log10 + self.unk_score_offset * oov, 0.0)
        state = torch.where(has_word, state, beams.lm_state)
        if end_of_sentence and self.score_boundary:
            end, _ = self.lm.score(state, torch.full_like(state, self.lm.eos_id))
            raw = raw + end
        weighted = self.alpha * LN_10 * raw + torch.where(has_word, self.beta, 0.0)
        return weighted, state

    def _step(
        self, beams: _Beams, cand_ids: torch.Tensor, cand_logp: torch.Tensor, width: int, prune_logp: float
    ) -> tuple[_Beams, torch.Tensor, torch.Tensor]:
        """One frame: expand (B, K) hypotheses by (B, C) candidate labels, merge, prune, keep the best `width`.

        The result is only as wide as the row with most surviving hypotheses: with peaky posteriors most rows
        keep a few, so later frames work on far fewer than beam_width columns (those of a row beyond its
        survivors hold -inf)."""
        batch, num_candidates = cand_ids.shape
        current = beams.acoustic.shape[1]
        label = cand_ids[:, None, :]  # (B, 1, C)

        def per_hyp(x: torch.Tensor) -> torch.Tensor:
            return x[:, :, None]

        is_blank = label == self.blank_id
        is_repeat = (label == per_hyp(beams.last)) & ~is_blank
        is_space = (label == self.space_id) & ~is_repeat & ~is_blank
        is_letter = ~(is_blank | is_repeat | is_space)
        finishes = is_space & per_hyp(beams.partial_len > 0)
        word_score, word_state = self._word_scores(beams, end_of_sentence=False)
        trie = torch.where(
            is_letter,
            self.trie.step(per_hyp(beams.trie), label) if self.trie is not None else per_hyp(beams.trie),
            torch.where(is_space, 0, per_hyp(beams.trie)),
        )
        partial_len = torch.where(
            is_letter, per_hyp(beams.partial_len) + 1, torch.where(is_space, 0, per_hyp(beams.partial_len))
        )
        code = torch.where(is_letter, label + 1, _SPACE_CODE)[..., None]
        grows = (is_letter | finishes)[..., None]
        old_hashes = beams.hashes[:, :, None, :]  # (B, K, 1, 2)
        hashes = torch.where(grows, (old_hashes * self._hash_primes + code) % self._hash_moduli, old_hashes)
        expanded = _Beams(
            acoustic=per_hyp(beams.acoustic) + cand_logp[:, None, :],
            lm_total=torch.where(finishes, per_hyp(beams.lm_total + word_score), per_hyp(beams.lm_total)),
            lm_state=torch.where(finishes, per_hyp(word_state), per_hyp(beams.lm_state)),
            trie=trie,
            partial_len=partial_len,
            last=label,
            hashes=hashes,
        )
        shape = (batch, current, num_candidates)
        flat = _Beams(*(_flatten(x, shape) for x in expanded.fields()))
        key = _text_key(flat.hashes, flat.last)
        score, order = self._merge(flat, key)
        best = score.max(1, keepdim=True).values
        score = score.masked_fill(score < best + prune_logp, float("-inf"))
        top_score, top = score.topk(min(width, current * num_candidates), dim=1)
        survivors = int(torch.isfinite(top_score).sum(1).max())
        top_score, top = top_score[:, :survivors], top[:, :survivors]
        picked = order.gather(1, top)
        new = flat.gather(picked)
        new.acoustic = torch.where(torch.isfinite(top_score), self._merged_acoustic.gather(1, top), float("-inf"))
        return new, picked // num_candidates, cand_ids.gather(1, picked % num_candidates)

    def _merge(
        self, flat: _Beams, key: torch.Tensor, rank: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Merge equal-key hypotheses: (B, M) total scores in `order` (each group's representative holds the
        group's, the others -inf) and that order; the merged acoustic scores are left in `self._merged_acoustic`
        (same order). The representative, whose LM score the group keeps, is the member with the highest total
        score (or the highest `rank`, when given)."""
        lm_part = flat.lm_total + self._partial_score(flat.trie, flat.partial_len)
        # One sort by key groups the hypotheses; each group's representative is then found by two reductions (a
        # second sort by score would cost as much as the first).
        order = key.argsort(dim=1)
        sorted_key = key.gather(1, order)
        acoustic = flat.acoustic.gather(1, order)
        ranking = (flat.acoustic + lm_part if rank is None else rank).gather(1, order)  # -inf: empty
        starts = torch.ones_like(sorted_key, dtype=torch.bool)
        starts[:, 1:] = sorted_key[:, 1:] != sorted_key[:, :-1]
        group = starts.cumsum(1) - 1
        best_rank = torch.full_like(ranking, float("-inf")).scatter_reduce(1, group, ranking, "amax")
        position = torch.arange(ranking.shape[1], device=ranking.device).expand_as(group)
        candidate = torch.where(ranking == best_rank.gather(1, group), position, ranking.shape[1])
        representative = torch.full_like(group, ranking.shape[1]).scatter_reduce(1, group, candidate, "amin")
        first = position == representative.gather(1, group)
        group_max = torch.full_like(acoustic, float("-inf")).scatter_reduce(1, group, acoustic, "amax")
        member_max = group_max.gather(1, group)
        shifted = torch.where(torch.isfinite(member_max), acoustic - member_max, float("-inf"))
        sums = torch.zeros_like(acoustic).scatter_add(1, group, shifted.exp())
        merged = (group_max + sums.log()).gather(1, group)
        self._merged_acoustic = torch.where(first, merged, float("-inf"))
        return torch.where(first, self._merged_acoustic + lm_part.gather(1, order), float("-inf")), order

    def _final_scores(self, beams: _Beams) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, K) total and acoustic scores with the last word and </s> scored, slots in `beams`' order.

        As in pyctcdecode: hypotheses of the same text merge ("a cat" with "a cat "), the group keeping the LM
        score of its member that ranked last before this scoring (pyctcdecode's merge keeps the last beam it
        meets); and an empty last word (the text ends with a space) is scored as an unknown word."""
        before = beams.acoustic + beams.lm_total + self._partial_score(beams.trie, beams.partial_len)
        rank = torch.where(torch.isfinite(before), -before, float("-inf"))  # the lowest first; empty slots never
        word_score, _ = self._word_scores(beams, end_of_sentence=True)
        finished = _Beams(**{**vars(beams), "lm_total": beams.lm_total + word_score})
        finished.partial_len = torch.zeros_like(beams.partial_len)  # scored: no partial-word penalty any more
        # the text as if its partial word were finished, so that "a cat" and "a cat " are one text
        committed = (beams.hashes * self._hash_primes + _SPACE_CODE) % self._hash_moduli
        hashes = torch.where((beams.partial_len > 0)[..., None], committed, beams.hashes)
        score, order = self._merge(finished, _text_key(hashes), rank)
        empty = torch.full_like(score, float("-inf"))
        return empty.scatter(1, order, score), empty.scatter(1, order, self._merged_acoustic)

    def _backtrack(
        self,
        parents: list[torch.Tensor],
        chosen: list[torch.Tensor],
        best: torch.Tensor,
        acoustic: torch.Tensor,
        final: torch.Tensor,
        lengths: torch.Tensor,
    ) -> list[BestPath]:
        rows = torch.arange(len(best), device=best.device)
        slot = best
        path = torch.empty(len(parents), len(best), dtype=torch.int64, device=best.device)  # (T, B)
        for t in range(len(parents) - 1, -1, -1):  # frames differ in width: (B, K_t) each
            path[t] = chosen[t][rows, slot]
            slot = parents[t][rows, slot]
        path = path.cpu().numpy()
        best_col = best[:, None]
        logit = acoustic.gather(1, best_col)[:, 0].cpu().numpy()
        score = final.gather(1, best_col)[:, 0].cpu().numpy()
        return [
            BestPath(labels=path[: int(n), b], logit_score=float(logit[b]), score=float(score[b]))
            for b, n in enumerate(lengths.cpu().tolist())
        ]


def _flatten(x: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """A (B, K, C[, 2]) expansion (broadcastable) as (B, K * C[, 2]), hypothesis-major."""
    tail = x.shape[3:]
    return x.expand(*shape, *tail).reshape(shape[0], shape[1] * shape[2], *tail)


def _widen(beams: _Beams, width: int) -> _Beams:
    """`beams` with empty (-inf) hypotheses appended up to `width` columns."""
    extra = width - beams.acoustic.shape[1]
    if extra == 0:
        return beams
    padded = [torch.nn.functional.pad(x, (0, 0, 0, extra) if x.dim() == 3 else (0, extra)) for x in beams.fields()]
    padded[0][:, width - extra :] = float("-inf")  # acoustic
    return _Beams(*padded)


def _widen_index(x: torch.Tensor, width: int) -> torch.Tensor:
    """(B, K) parents or labels padded with 0 up to `width` columns (the padding belongs to empty hypotheses)."""
    return torch.nn.functional.pad(x, (0, width - x.shape[1]))


def _keep(active: torch.Tensor, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    """`new` for the (B, 1) active rows, `old` for the finished ones."""
    return torch.where(active if new.dim() == 2 else active[:, :, None], new, old)


def _text_key(hashes: torch.Tensor, last: torch.Tensor | None = None) -> torch.Tensor:
    """(B, N) int64 identity of each hypothesis' text (and last label, when given) from its (B, N, 2) hashes."""
    first = hashes[..., 0] if last is None else (hashes[..., 0] * _P_LAST + last) % _MODULI[0]
    return first * _M2 + hashes[..., 1]


def path_words(path: np.ndarray, labels: Sequence[str], blank_id: int) -> list[tuple[str, tuple[int, int]]]:
    """Words of a CTC alignment (one label id per frame) with their frames (start, end exclusive): repeats
    collapse, blanks vanish, spaces separate words; a word ends after the last frame of its last label."""
    words: list[tuple[str, tuple[int, int]]] = []
    chars: list[str] = []
    start = end = 0
    previous = blank_id
    for frame, label in enumerate(path.tolist()):
        if label != blank_id and label == previous and chars:
            end = frame + 1
        elif label != blank_id and label != previous:
            if labels[label] == " ":
                if chars:
                    words.append(("".join(chars), (start, end)))
                chars = []
            else:
                if not chars:
                    start = frame
                chars.append(labels[label])
                end = frame + 1
        previous = label
    if chars:
        words.append(("".join(chars), (start, end)))
    return words


__all__ = ["BatchedBeamSearch", "BestPath", "path_words"]
