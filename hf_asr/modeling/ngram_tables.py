"""A word n-gram LM as flat arrays, so that a batched beam search can score many hypotheses with a few tensor ops.

KenLM's binary cannot be read back into n-grams, so the tables are made from the ARPA file (`build-lm` writes
them beside `lm.bin`) and saved as `NGRAM_TABLES_FILE`. Every n-gram (and the empty context, node 0) is a node:

    keys[i]      parent_node * vocab_size + word, sorted; children[i] is that n-gram's node
    log10_prob   (nodes,)  the n-gram's log10 probability (ARPA column 1)
    log10_backoff (nodes,) its backoff weight as a context (0 where the ARPA gives none)
    suffix       (nodes,)  the node of its longest proper suffix that is an n-gram (node 0 for a unigram)
    next_state   (nodes,)  the LM state after this n-gram: itself, or for a top-order n-gram the node of its
                           longest existing suffix of order - 1 words

A state is the node of the longest suffix of the word history that is an n-gram (at most order - 1 words), so
ARPA back-off is exact: p(w | state) is found by walking `suffix` links, adding back-off weights, until
(state, w) is an n-gram. The scores equal KenLM's (tests compare them).

Numpy only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic_write import atomic_write_bytes
from .lm_decoder_folder import NGRAM_TABLES_FILE

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
MISSING_UNK_LOG10 = -100.0  # an ARPA without <unk>: unknown words are (nearly) impossible


@dataclass(frozen=True)
class NgramTables:
    """The arrays described in the module docstring, plus the vocabulary (ARPA unigram order) and the order."""

    vocabulary: list[str]
    order: int
    keys: np.ndarray
    children: np.ndarray
    log10_prob: np.ndarray
    log10_backoff: np.ndarray
    suffix: np.ndarray
    next_state: np.ndarray

    @property
    def word_ids(self) -> dict[str, int]:
        return {word: i for i, word in enumerate(self.vocabulary)}

    @property
    def num_ngrams(self) -> int:
        return len(self.keys)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the tables to `path` (a `.npz`), atomically."""
        import io

        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            vocabulary=np.array("\n".join(self.vocabulary)),
            order=np.array(self.order),
            keys=self.keys,
            children=self.children,
            log10_prob=self.log10_prob,
            log10_backoff=self.log10_backoff,
            suffix=self.suffix,
            next_state=self.next_state,
        )
        path = Path(path)
        atomic_write_bytes(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> NgramTables:
        """Tables saved by `save`; a missing file raises FileNotFoundError, a damaged one ValueError naming it."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"n-gram tables {path} do not exist; rebuild the LM with `hf-asr build-lm` (it writes them)"
            )
        try:
            with np.load(path, allow_pickle=False) as data:
                fields = {name: data[name] for name in data.files}
            vocabulary = str(fields.pop("vocabulary")).split("\n")
            order = int(fields.pop("order"))
            tables = cls(vocabulary=vocabulary, order=order, **fields)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"cannot read n-gram tables {path}: {error}; rebuild them with `hf-asr build-lm`"
            ) from error
        tables.check(path)
        return tables

    def check(self, source: str | os.PathLike) -> None:
        """ValueError naming `source` when the arrays do not fit together."""
        nodes = len(self.log10_prob)
        sizes = {"children": len(self.children), "keys": len(self.keys)}
        same_nodes = {"log10_backoff": len(self.log10_backoff), "suffix": len(self.suffix)}
        same_nodes["next_state"] = len(self.next_state)
        if len(set(sizes.values())) != 1 or any(n != nodes for n in same_nodes.values()) or nodes != len(self.keys) + 1:
            raise ValueError(f"n-gram tables {source} are inconsistent (array sizes {sizes}, {same_nodes}, {nodes})")
        if self.order < 1 or UNK not in self.vocabulary and len(self.vocabulary) == 0:
            raise ValueError(f"n-gram tables {source} have order {self.order} and {len(self.vocabulary)} words")


def read_arpa(path: str | os.PathLike) -> NgramTables:
    """Tables of the ARPA file at `path`. ValueError naming the file and line for a malformed one."""
    path = Path(path)
    sections: list[list[tuple[float, list[str], float]]] = []
    with path.open(encoding="utf-8") as file:
        current: list[tuple[float, list[str], float]] | None = None
        for number, line in enumerate(file, start=1):
            line = line.strip()
            if not line or line.startswith("ngram ") or line == "\\data\\":
                continue
            if line.startswith("\\") and line.endswith("-grams:"):
                current = []
                sections.append(current)
                continue
            if line == "\\end\\":
                break
            if current is None:
                raise ValueError(f"ARPA file {path}, line {number}: n-gram entry before any \\N-grams: header")
            parts = line.split("\t")
            if len(parts) not in (2, 3):
                parts = line.split()
                order = len(sections)
                if len(parts) not in (order + 1, order + 2):
                    raise ValueError(f"ARPA file {path}, line {number}: cannot read {line[:80]!r}")
                parts = [parts[0], " ".join(parts[1 : order + 1])] + parts[order + 1 :]
            try:
                prob = float(parts[0])
                backoff = float(parts[2]) if len(parts) == 3 else 0.0
            except ValueError as error:
                raise ValueError(f"ARPA file {path}, line {number}: {error}") from error
            current.append((prob, parts[1].split(" "), backoff))
    if not sections or not sections[0]:
        raise ValueError(f"ARPA file {path} has no 1-grams")
    return _tables(sections, str(path))


def _tables(sections: list[list[tuple[float, list[str], float]]], source: str) -> NgramTables:
    vocabulary = [words[0] for _, words, _ in sections[0]]
    if UNK not in vocabulary:
        sections[0].append((MISSING_UNK_LOG10, [UNK], 0.0))
        vocabulary.append(UNK)
    word_ids = {word: i for i, word in enumerate(vocabulary)}
    size = len(vocabulary)
    node_of: dict[int, int] = {}  # parent_node * size + word -> node
    probs, backoffs, parents, words_of, orders = [0.0], [0.0], [-1], [-1], [0]
    histories: list[tuple[int, ...]] = [()]
    for order, entries in enumerate(sections, start=1):
        for prob, words, backoff in entries:
            ids = tuple(word_ids.get(w, -1) for w in words)
            if len(ids) != order or -1 in ids:
                raise ValueError(f"ARPA file {source}: {order}-gram {' '.join(words)!r} uses an unknown word")
            parent = _node(node_of, ids[:-1], size)
            if parent is None:  # its context is not an n-gram (pruned): no LM state reaches it
                continue
            node = len(probs)
            node_of[parent * size + ids[-1]] = node
            probs.append(prob)
            backoffs.append(backoff)
            parents.append(parent)
            words_of.append(ids[-1])
            orders.append(order)
            histories.append(ids)
    top = len(sections)
    suffix = np.zeros(len(probs), dtype=np.int64)
    for node in range(1, len(probs)):
        history = histories[node][1:]
        while history and (found := _node(node_of, history, size)) is None:
            history = history[1:]
        suffix[node] = found if history else 0
    order_of = np.asarray(orders)
    next_state = np.where(order_of == top, suffix, np.arange(len(probs)))
    keys = np.asarray(parents[1:], dtype=np.int64) * size + np.asarray(words_of[1:], dtype=np.int64)
    sort = np.argsort(keys, kind="stable")
    return NgramTables(
        vocabulary=vocabulary,
        order=top,
        keys=keys[sort],
        children=(sort + 1).astype(np.int64),
        log10_prob=np.asarray(probs, dtype=np.float32),
        log10_backoff=np.asarray(backoffs, dtype=np.float32),
        suffix=suffix,
        next_state=next_state.astype(np.int64),
    )


def _node(node_of: dict[int, int], ids: tuple[int, ...], size: int) -> int | None:
    """The node of the n-gram `ids` (0 for the empty one), or None when it is not in the model."""
    node = 0
    for word in ids:
        found = node_of.get(node * size + word)
        if found is None:
            return None
        node = found
    return node


__all__ = ["NgramTables", "read_arpa", "NGRAM_TABLES_FILE", "UNK", "BOS", "EOS"]
