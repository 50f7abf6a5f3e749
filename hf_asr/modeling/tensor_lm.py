"""The n-gram LM and the unigram spelling trie as torch tensors: every lookup is a `searchsorted` over sorted keys,
so a batch of hypotheses is scored at once, on the CPU or unchanged on a GPU.

Torch and numpy only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from .ngram_tables import BOS, EOS, UNK, NgramTables

LN_10 = math.log(10.0)  # KenLM scores are log10, CTC scores natural logs (pyctcdecode's LOG_BASE_CHANGE_FACTOR)
OFF_TRIE = -1  # the trie node of a partial word that no unigram starts with


def take(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """`table[index]` for an int64 index of any shape: rows of `table` (its first axis), shaped index.shape + the
    rest of table.shape. Through index_select of the flat index, which on the CPU is several times faster than
    advanced indexing for the small batches a search step looks up (and the same on a GPU)."""
    return table.index_select(0, index.reshape(-1)).view(*index.shape, *table.shape[1:])


def _lookup(keys: torch.Tensor, values: torch.Tensor, query: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(values at `query` in sorted `keys`, found mask), both shaped like `query`; values are 0 where not found."""
    if len(keys) == 0:
        return torch.zeros_like(query), torch.zeros_like(query, dtype=torch.bool)
    position = torch.searchsorted(keys, query).clamp_(max=len(keys) - 1)
    found = take(keys, position) == query
    return take(values, position).masked_fill_(~found, 0), found


class TensorNgramLM:
    """`NgramTables` on a device: `score(states, words)` gives log10 p(word | state) and the next states."""

    def __init__(self, tables: NgramTables, device: torch.device | str = "cpu") -> None:
        self.order = tables.order
        self.vocabulary = tables.vocabulary
        self.word_ids = tables.word_ids
        self.vocab_size = len(tables.vocabulary)
        self.unk_id = self.word_ids[UNK]
        self.bos_state = self._unigram_node(tables, BOS)
        self.eos_id = self.word_ids.get(EOS, self.unk_id)

        def tensor(array: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(array)).to(device)

        self.keys = tensor(tables.keys)
        self.children = tensor(tables.children)
        self.log10_prob = tensor(tables.log10_prob)
        self.next_state = tensor(tables.next_state)
        self.contexts, self.backoff_before = self._backoff_chains(tables)

    def _unigram_node(self, tables: NgramTables, word: str) -> int:
        if word not in self.word_ids:
            return 0
        key = self.word_ids[word]  # a unigram's parent is node 0
        position = int(np.searchsorted(tables.keys, key))
        return int(tables.children[position]) if position < len(tables.keys) and tables.keys[position] == key else 0

    def start_state(self, sentence_boundary: bool) -> int:
        """The state before the first word: after <s> when `sentence_boundary`, else the empty context."""
        return self.bos_state if sentence_boundary else 0

    def _backoff_chains(self, tables: NgramTables) -> tuple[torch.Tensor, torch.Tensor]:
        """(nodes, order) contexts a lookup from each state tries, longest first (its suffix links; the empty
        context repeats at the end), and (nodes, order + 1) the log10 back-off weights summed before each try.
        One lookup of all `order` contexts at once replaces a loop of `order` dependent lookups."""
        contexts = np.empty((len(tables.suffix), self.order), dtype=np.int64)
        backoff_before = np.zeros((len(tables.suffix), self.order + 1), dtype=np.float32)
        contexts[:, 0] = np.arange(len(tables.suffix))
        for level in range(1, self.order + 1):
            backoff_before[:, level] = backoff_before[:, level - 1] + tables.log10_backoff[contexts[:, level - 1]]
            if level < self.order:
                contexts[:, level] = tables.suffix[contexts[:, level - 1]]
        device = self.keys.device
        return torch.from_numpy(contexts).to(device), torch.from_numpy(backoff_before).to(device)

    def score(self, states: torch.Tensor, words: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """log10 p(words | states) (float32) and the states after them; int64 tensors of any one shape.

        ARPA back-off: the longest context of the state's suffix chain where (context, word) is an n-gram gives
        its probability, plus the back-off weights of the longer contexts tried before it."""
        contexts = take(self.contexts, states)  # (..., order)
        node, found = _lookup(self.keys, self.children, contexts * self.vocab_size + words[..., None])
        level = found.to(torch.uint8).argmax(-1, keepdim=True)  # the first (longest) context that has the n-gram
        missing = ~found.any(-1)
        matched = node.gather(-1, level)[..., 0].masked_fill_(missing, 0)
        level = level[..., 0].masked_fill_(missing, self.order)  # no n-gram: every back-off weight, no prob
        before = take(self.backoff_before.view(-1), states * (self.order + 1) + level)
        total = before + take(self.log10_prob, matched).masked_fill_(missing, 0.0)
        return total, take(self.next_state, matched)

    def score_words(self, words: Sequence[str], sentence_boundary: bool = True) -> float:
        """log10 probability of a sentence, as `kenlm.Model.score(sentence, bos, eos)` gives it (for checks)."""
        state = torch.tensor([self.start_state(sentence_boundary)], device=self.keys.device)
        total = 0.0
        ids = [self.word_ids.get(w, self.unk_id) for w in words] + ([self.eos_id] if sentence_boundary else [])
        for word in ids:
            score, state = self.score(state, torch.tensor([word], device=state.device))
            total += float(score[0])
        return total


class SpellingTrie:
    """The unigrams spelled in CTC label ids: `step(nodes, labels)` follows one label, `words[node]` is the LM id of
    the word ending there (the LM's <unk> id where the word is outside the LM or unigrams, with `oov[node]`)."""

    def __init__(
        self, unigrams: Sequence[str], labels: Sequence[str], lm: TensorNgramLM, device: torch.device | str = "cpu"
    ) -> None:
        label_ids = {label: i for i, label in enumerate(labels) if len(label) == 1}
        self.num_labels = len(labels)
        edges: dict[int, int] = {}  # node * num_labels + label -> child
        word_of = [lm.unk_id]
        oov = [True]
        for word in unigrams:
            ids = [label_ids.get(char, -1) for char in word]
            if -1 in ids:  # a character the model cannot output: it can never be spelled
                continue
            node = 0
            for label in ids:
                key = node * self.num_labels + label
                if key not in edges:
                    edges[key] = len(word_of)
                    word_of.append(lm.unk_id)
                    oov.append(True)
                node = edges[key]
            in_lm = word in lm.word_ids
            word_of[node] = lm.word_ids[word] if in_lm else lm.unk_id
            oov[node] = not in_lm
        # A dense (nodes, labels) child table: one gather per step. int32: 4 bytes x labels per trie node
        # (~7 MB for 20k words of 30 letters).
        table = np.full((len(word_of), self.num_labels), OFF_TRIE, dtype=np.int32)
        for key, child in edges.items():
            table[divmod(key, self.num_labels)] = child
        self.children = torch.from_numpy(table).to(device)
        self.words = torch.tensor(word_of, dtype=torch.int64, device=device)
        self.unknown_word = word_of[0]  # the LM id an off-trie partial word reads as
        self.oov = torch.tensor(oov, dtype=torch.bool, device=device)

    def step(self, nodes: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The nodes after appending `labels` to the partial words at `nodes` (broadcast); OFF_TRIE stays off."""
        child = take(self.children.view(-1), nodes.clamp(min=0) * self.num_labels + labels).long()
        return child.masked_fill_(nodes < 0, OFF_TRIE)

    def word_at(self, nodes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(LM word ids, out-of-vocabulary mask) of the partial words at `nodes` read as whole words."""
        outside = nodes < 0
        safe = nodes.clamp(min=0)
        return take(self.words, safe).masked_fill_(outside, self.unknown_word), outside | take(self.oov, safe)


__all__ = ["TensorNgramLM", "SpellingTrie", "LN_10", "OFF_TRIE", "take"]
