"""Split expressions: "train" names one split of a corpus, "train+validation" their concatenation, in that order."""

from __future__ import annotations

import datasets

from .corpus_errors import CorpusError


def split_parts(expression: str) -> list[str]:
    """The split names of `expression` ("train+validation" -> ["train", "validation"]); a name is kept whole
    when no "+" is in it."""
    return [part.strip() for part in expression.split("+")]


def combine_splits(corpus: datasets.DatasetDict, expression: str, where: str = "the corpus") -> datasets.Dataset:
    """The split `expression` names: one split, or "a+b" the splits concatenated (in that order).

    A split whose own name holds "+" is taken whole. CorpusError naming `where`, the missing split and the splits
    there; or the splits whose columns differ.
    """
    if expression in corpus:
        return corpus[expression]
    parts = split_parts(expression)
    missing = [part for part in parts if part not in corpus]
    if missing:
        within = f" (in {expression!r})" if len(parts) > 1 else ""
        raise CorpusError(
            f"{where} has no split {' or '.join(map(repr, missing))}{within}; its splits are {list(corpus)}"
        )
    try:
        return datasets.concatenate_datasets([corpus[part] for part in parts])
    except ValueError as error:  # datasets says that features differ, not which splits
        raise CorpusError(f"the splits {parts} of {where} cannot be joined ({error})") from error


__all__ = ["split_parts", "combine_splits"]
