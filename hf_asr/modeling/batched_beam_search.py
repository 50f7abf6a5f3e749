"""CTC prefix beam search over a whole batch at once, with the word n-gram LM held in tensors (`tensor_lm.py`).

Every utterance keeps `beam_width` hypotheses; one frame of all of them is a fixed handful of tensor operations,
so the Python loop runs once per frame of the longest utterance, not once per hypothesis and label as in
pyctcdecode. The rules are pyctcdecode's, so the results match it (tests compare them):

- a frame expands each hypothesis with the labels whose log-prob is >= token_min_logp (and always the argmax);
  blank and a repeat of the last label keep the text, a space ends the partial word, any other label extends it;
- hypotheses with the same text and last label are merged (log-sum of their acoustic scores); only the best
  `MERGE_POOL_PER_BEAM * beam_width` expansions of an utterance (by score before merging) take part, which is
  the one approximation: a merged group's members beyond that pool are left out of its sum;
- a finished word adds alpha * ln(10) * (log10 p(word | history) + unk_score_offset if out of vocabulary) + beta;
  a partial word that no unigram starts with adds unk_score_offset (scaled by its length beyond 6 characters);
- hypotheses below the best + beam_prune_logp are dropped, then the best beam_width are kept;
- at the end the partial word is scored as the last word, with </s> when score_boundary (an empty one, where the
  text ends with a space, as an unknown word: pyctcdecode's rule), and hypotheses of the same text are merged.

Not supported: hotwords and prune_history. A word's end frame may differ from pyctcdecode's by a frame (both are
alignments of the same text; this one is the best-scoring member's of each merge). Texts are identified by a
rolling 64-bit hash (a collision, ~5e-20 per pair of texts, would merge two hypotheses).

Torch and numpy only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch

from .tensor_lm import LN_10, OFF_TRIE, SpellingTrie, TensorNgramLM, take

# A polynomial rolling hash modulo 2**64: int64 products wrap around (on the CPU and CUDA alike), so no modulo
# (int64 division) is needed. Both multipliers are odd: appending a label is a bijection of the hash.
_HASH_MULTIPLIER = 6_364_136_223_846_793_005  # Knuth's MMIX LCG multiplier
_LAST_MULTIPLIER = 1_442_695_040_888_963_407
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
    lm_part: torch.Tensor  # float32: lm_total + the partial word's penalty, the LM score it ranks with
    lm_state: torch.Tensor  # int64 n-gram state
    trie: torch.Tensor  # int64 node of the partial word (OFF_TRIE: no unigram starts with it)
    partial_len: torch.Tensor  # int64 characters of the partial word
    last: torch.Tensor  # int64 last label (blank after a blank)
    hashes: torch.Tensor  # (B, K) int64: the text's rolling hash

    def fields(self) -> list[torch.Tensor]:
        return [getattr(self, name) for name in self.__dataclass_fields__]

    def gather(self, index: torch.Tensor) -> _Beams:
        return _Beams(*(x.gather(1, index) for x in self.fields()))


# Expansions merged per utterance and frame: MERGE_POOL_PER_BEAM * beam_width, at least MIN_MERGE_POOL. On the demo
# model's posteriors (beam 32) a pool of 2 x beam gives pyctcdecode's WER in 0.76x the time of 4 x beam.
MERGE_POOL_PER_BEAM = 2
MIN_MERGE_POOL = 64


def _merge_pool(width: int) -> int:
    return max(MERGE_POOL_PER_BEAM * width, MIN_MERGE_POOL)


@dataclass
class _Moves:
    """What each candidate label does to a hypothesis, as (B, K, C) masks (or (B, N) for chosen expansions): blank
    and a repeat keep the text, a space ends the partial word (`finishes` if there is one), any other label extends
    it (`letter`)."""

    letter: torch.Tensor
    space: torch.Tensor
    finishes: torch.Tensor
    grows: torch.Tensor

    @classmethod
    def of(
        cls, label: torch.Tensor, last: torch.Tensor, partial_len: torch.Tensor, search: BatchedBeamSearch
    ) -> _Moves:
        """Moves of `label` (B, 1, C) after hypotheses whose last label is `last` and partial word `partial_len`
        characters long (both (B, K, 1))."""
        is_blank = label == search.blank_id
        is_repeat = (label == last) & ~is_blank
        space = (label == search.space_id) & ~is_repeat & ~is_blank
        letter = ~(is_blank | is_repeat | space)
        finishes = space & (partial_len > 0)
        return cls(letter, space, finishes, letter | finishes)

    def select(self, index: torch.Tensor) -> _Moves:
        """The moves at (B, N) `index` into each row's flattened K x C expansions."""
        return _Moves(*(getattr(self, f.name).reshape(len(index), -1).gather(1, index) for f in fields(self)))


def _merge_sorted(
    key: torch.Tensor, acoustic: torch.Tensor, lm_part: torch.Tensor, rank: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Merge equal-key hypotheses of (B, P) tensors sorted by `rank` (highest first, -inf: empty, last): (B, P)
    total and acoustic score at each group's first member, -inf elsewhere. The group's acoustic score is the
    log-sum of its members'; its LM part is its first member's (during the search all members share it: the same
    text)."""
    pool = key.shape[1]
    position = torch.arange(pool, device=key.device).expand_as(key)
    by_key = key.sort(dim=1, stable=True).indices  # groups together, each in score order: its leader first
    sorted_key = key.gather(1, by_key)
    starts = torch.ones_like(sorted_key, dtype=torch.bool)
    starts[:, 1:] = sorted_key[:, 1:] != sorted_key[:, :-1]
    group = starts.cumsum(1) - 1
    # each group's first sorted position (cummax would do it, but its CPU kernel is ~50x slower at these sizes)
    group_start = torch.zeros_like(group).scatter_reduce_(1, group, position, "amin", include_self=False)
    group_start = group_start.gather(1, group)
    first = torch.empty_like(by_key).scatter_(1, by_key, by_key.gather(1, group_start))  # (B, P) leader
    finite = _alive(rank)
    lead = acoustic.gather(1, first)
    share = (acoustic - lead).exp_().masked_fill_(~finite, 0.0)
    sums = torch.zeros_like(acoustic).scatter_add_(1, first, share)
    is_first = (first == position) & finite
    merged = sums.log_().add_(acoustic).masked_fill_(~is_first, float("-inf"))
    return merged + lm_part, merged  # -inf stays -inf: LM parts are finite


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
        """The best path of each (T_i, V) log-prob array (T_i >= 1), decoded together.

        Shorter utterances are padded with certain blanks (log-prob 0; every other label -inf): such a frame
        only merges hypotheses of the same text, which the final scoring would merge anyway."""
        lengths = torch.tensor([len(x) for x in log_probs], device=self.device)
        padded = torch.nn.utils.rnn.pad_sequence(
            [torch.as_tensor(x, dtype=torch.float32) for x in log_probs], batch_first=True, padding_value=-torch.inf
        ).to(self.device)
        batch, frames, _ = padded.shape
        ended = torch.arange(frames, device=self.device)[None, :] >= lengths[:, None]
        padded[..., self.blank_id] = padded[..., self.blank_id].masked_fill(ended, 0.0)
        # Candidates per frame: the labels >= token_min_logp (and the argmax) of any utterance at that frame.
        per_frame = (padded >= token_min_logp).sum(-1).amax(0).clamp(min=1, max=max_candidates).tolist()
        cand_logp, cand_ids = padded.topk(max(per_frame), dim=-1)  # (B, T, C), best first
        rank = torch.arange(cand_logp.shape[-1], device=self.device)
        cand_logp = cand_logp.masked_fill((cand_logp < token_min_logp) & (rank > 0), float("-inf"))
        beams = self._start(batch)
        parents, chosen = [], []
        for t in range(frames):
            c = per_frame[t]
            beams, parent, label = self._step(
                beams, cand_ids[:, t, :c], cand_logp[:, t, :c], beam_width, beam_prune_logp
            )
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
            lm_part=torch.zeros(batch, width, device=self.device),
            lm_state=zeros + state,
            trie=zeros.clone(),
            partial_len=zeros.clone(),
            last=zeros + self.blank_id,
            hashes=zeros.clone(),
        )

    def _partial_score(self, trie: torch.Tensor, partial_len: torch.Tensor) -> torch.Tensor:
        if self.lm is None:
            return torch.zeros(trie.shape, device=self.device)
        scale = (partial_len / _AVG_WORD_LEN).clamp_(min=1.0)  # 1 up to the average length, then in proportion
        return scale.mul_(self.unk_score_offset) * ((trie == OFF_TRIE) & (partial_len > 0))

    def _word_scores(
        self, beams: _Beams, end_of_sentence: bool, needed: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, K) weighted score of finishing each partial word now (0 without an LM), and the LM state after it.

        `needed` (B, K): score only those hypotheses (the others get 0 and keep their state). During the search
        only a hypothesis with a partial word, in a row with a space among this frame's candidates, can finish
        a word: about a quarter of them on the demo model's posteriors, so the n-gram lookups shrink as much."""
        if self.lm is None:
            return torch.zeros_like(beams.lm_total), beams.lm_state
        if needed is not None:
            index = needed.reshape(-1).nonzero()[:, 0]  # flat positions: index_select/index_copy, no 2-D indexing
            words, oov = self.trie.word_at(take(beams.trie.reshape(-1), index))
            log10, state = self.lm.score(take(beams.lm_state.reshape(-1), index), words)
            weighted = self.alpha * LN_10 * (log10 + self.unk_score_offset * oov) + self.beta
            shape = beams.lm_total.shape
            return (
                torch.zeros_like(beams.lm_total).view(-1).index_copy_(0, index, weighted).view(shape),
                beams.lm_state.reshape(-1).index_copy(0, index, state).view(shape),
            )
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

        Only scores are computed for all K * C expansions; the best `_merge_pool(width)` of them (by score before
        merging) are merged, and only the `width` kept get their new state. A merged group's members outside that
        pool are left out of its acoustic sum: each lies below the pool's better expansions, so its share of the
        sum is small, and a group that only merging would have lifted into the beam is rare (bench_decode.py
        measures the effect on real posteriors; with a pool of every expansion the search is pyctcdecode's).

        The result is only as wide as the row with most surviving hypotheses: with peaky posteriors most rows
        keep a few, so later frames work on far fewer than beam_width columns (those of a row beyond its
        survivors hold -inf)."""
        batch, num_candidates = cand_ids.shape
        current = beams.acoustic.shape[1]
        space_here = ((cand_ids == self.space_id) & _alive(cand_logp)).any(1, keepdim=True)  # (B, 1)
        can_finish = space_here & (beams.partial_len > 0) & _alive(beams.acoustic)
        word_score, word_state = self._word_scores(beams, end_of_sentence=False, needed=can_finish)
        # (B, K, C) scores of every expansion: acoustic + LM part (finished words, partial-word penalty)
        moves = _Moves.of(cand_ids[:, None, :], beams.last[:, :, None], beams.partial_len[:, :, None], self)
        letter_trie = self.trie.step(beams.trie[:, :, None], cand_ids[:, None, :]) if self.trie is not None else None
        letter_lm = beams.lm_total[:, :, None] + self._partial_score(
            letter_trie if letter_trie is not None else beams.trie[:, :, None], beams.partial_len[:, :, None] + 1
        )
        kept_lm = beams.lm_part
        space_lm = beams.lm_total + word_score  # 0 where no word can finish
        lm_part = torch.where(
            moves.letter, letter_lm, torch.where(moves.space, space_lm[:, :, None], kept_lm[:, :, None])
        ).reshape(batch, -1)
        acoustic = (beams.acoustic[:, :, None] + cand_logp[:, None, :]).reshape(batch, -1)
        pool_size = min(_merge_pool(width), current * num_candidates)
        pool_score, pool = (acoustic + lm_part).topk(pool_size, dim=1)  # best first
        parent, label = pool // num_candidates, cand_ids.gather(1, pool % num_candidates)
        # the pool's texts (hashes) and keys (text + last label), then the merge
        pooled = moves.select(pool)
        code = (label + 1).masked_fill_(~pooled.letter, _SPACE_CODE)
        old_hashes = beams.hashes.gather(1, parent)
        hashes = torch.where(pooled.grows, old_hashes * _HASH_MULTIPLIER + code, old_hashes)
        pool_lm = lm_part.gather(1, pool)
        merged_score, merged_acoustic = _merge_sorted(
            _text_key(hashes, label), acoustic.gather(1, pool), pool_lm, pool_score
        )
        best = merged_score.max(1, keepdim=True).values
        merged_score = merged_score.masked_fill(merged_score < best + prune_logp, float("-inf"))
        top_score, top = merged_score.topk(min(width, merged_score.shape[1]), dim=1)
        survivors = int(_alive(top_score).sum(1).max())
        top_score, top = top_score[:, :survivors], top[:, :survivors]
        # the new state of the kept hypotheses only
        parent, label = parent.gather(1, top), label.gather(1, top)
        letter, space, finishes = (x.gather(1, top) for x in (pooled.letter, pooled.space, pooled.finishes))
        old = beams.gather(parent)
        trie = old.trie.masked_fill(space, 0)
        if self.trie is not None:
            trie = torch.where(letter, self.trie.step(old.trie, label), trie)
        new = _Beams(
            acoustic=merged_acoustic.gather(1, top).masked_fill_(~_alive(top_score), float("-inf")),
            lm_total=torch.where(finishes, old.lm_total + word_score.gather(1, parent), old.lm_total),
            lm_part=pool_lm.gather(1, top),
            lm_state=torch.where(finishes, word_state.gather(1, parent), old.lm_state),
            trie=trie,
            partial_len=(old.partial_len + letter).masked_fill_(space, 0),  # letter and space exclude each other
            last=label,
            hashes=hashes.gather(1, top),
        )
        return new, parent, label

    def _final_scores(self, beams: _Beams) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, K) total and acoustic scores with the last word and </s> scored, slots in `beams`' order.

        As in pyctcdecode: hypotheses of the same text merge ("a cat" with "a cat "), the group keeping the LM
        score of its member that ranked last before this scoring (pyctcdecode's merge keeps the last beam it
        meets); and an empty last word (the text ends with a space) is scored as an unknown word."""
        before = beams.acoustic + beams.lm_part
        rank = torch.where(_alive(before), -before, float("-inf"))  # the lowest first; empty slots never
        word_score, _ = self._word_scores(beams, end_of_sentence=True)
        # the text as if its partial word were finished, so that "a cat" and "a cat " are one text
        committed = beams.hashes * _HASH_MULTIPLIER + _SPACE_CODE
        hashes = torch.where(beams.partial_len > 0, committed, beams.hashes)
        order = rank.sort(dim=1, descending=True, stable=True).indices
        score, acoustic = _merge_sorted(
            _text_key(hashes).gather(1, order),
            beams.acoustic.gather(1, order),
            (beams.lm_total + word_score).gather(1, order),  # scored: no partial-word penalty any more
            rank.gather(1, order),
        )
        empty = torch.full_like(score, float("-inf"))
        return empty.scatter(1, order, score), empty.scatter(1, order, acoustic)

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


def _alive(score: torch.Tensor) -> torch.Tensor:
    """Scores here are finite or -inf (an empty slot, a pruned or merged-away hypothesis): one comparison, where
    torch.isfinite costs several kernels on the CPU."""
    return score > float("-inf")


def _text_key(hashes: torch.Tensor, last: torch.Tensor | None = None) -> torch.Tensor:
    """(B, N) int64 identity of each hypothesis' text (and last label, when given) from its (B, N) hashes."""
    return hashes if last is None else hashes * _LAST_MULTIPLIER + last


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
