"""Real English sentences to speak: Debian's fortune files, a user text file, or a `datasets` text column.

Every source goes through the same filter (`clean_sentence`): a sentence is kept only if its normalised form uses
`a`-`z`, `'` and space, has `min_words`..`max_words` words, and its raw form has nothing a speech synthesiser would
read aloud that the transcript would lose (digits, `&`, `%`, `$`, ...). The result is deduplicated and shuffled by a
seed, so the same arguments always give the same list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .text import normalize_transcript

FORTUNES_DIR = Path("/usr/share/games/fortunes")
# Prose files of Debian's `fortunes-min` (first three) and `fortunes`; art, code, jargon and crude ones are left out.
DEFAULT_FORTUNE_FILES = (
    "fortunes", "literature", "riddles",
    "wisdom", "people", "platitudes", "humorists", "education", "work", "science", "love", "pets", "food", "tao",
    "kids", "sports", "miscellaneous", "songs-poems", "magic", "medicine", "politics", "law", "goedel", "news",
    "paradoxum", "pratchett", "startrek", "cookie",
)  # fmt: skip
FORTUNES_INSTALL_HINT = "apt-get install fortunes-min fortunes"
# Debian's `wamerican` word list: the words of an LM that knows English beyond its sentences.
DEFAULT_WORD_LIST = Path("/usr/share/dict/american-english")

# Characters a raw sentence may hold: letters, apostrophes, spaces and punctuation that is not spoken.
_SPEAKABLE = re.compile(r"^[A-Za-z'\u2019\s,;:!?.\"()\-]+$")
_ALLOWED_NORMALISED = re.compile(r"^[a-z' ]+$")
# Sentence ends: . ! ? (possibly followed by a closing quote/paren) then whitespace.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')]))\s+")
# A period after these does not end a sentence ("Mr. Smith", "J. R. R. Tolkien").
_ABBREVIATION = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|vs|etc|i\.e|e\.g)|\b[A-Z])\.$")
_OVERSTRIKE = re.compile(r".\x08")
# Roman numerals ("XIII", "IV") are read as numbers but would be spelled as letters in the transcript.
_ROMAN_NUMERAL = re.compile(r"\b[IVXLC]{2,}\b")


def clean_sentence(raw: str, min_words: int = 3, max_words: int = 12) -> str | None:
    """Normalised `raw`, or None if it should not be spoken (see the module docstring for the rules)."""
    if not _SPEAKABLE.match(raw) or _ROMAN_NUMERAL.search(raw):
        return None
    sentence = normalize_transcript(raw)
    # Apostrophes used as quotes ("'hello'") are not part of a word: drop those at word edges.
    sentence = " ".join(word.strip("'") for word in sentence.split())
    sentence = " ".join(sentence.split())
    if not _ALLOWED_NORMALISED.match(sentence) or not min_words <= len(sentence.split()) <= max_words:
        return None
    return sentence


def split_sentences(text: str) -> list[str]:
    """Split running text into sentences at `.`, `!`, `?` followed by whitespace, keeping abbreviations whole."""
    pieces = _SENTENCE_END.split(" ".join(text.split()))
    sentences: list[str] = []
    for piece in pieces:
        if sentences and _ABBREVIATION.search(sentences[-1]):
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    return [s.strip() for s in sentences if s.strip()]


def fortune_entries(path: Path) -> list[str]:
    """The entries of one fortune file (separated by `%` lines), without attributions and `Q:`/`A:` prefixes."""
    text = _OVERSTRIKE.sub("", path.read_text(encoding="utf-8", errors="replace"))
    entries = []
    for block in re.split(r"^%\s*$", text, flags=re.MULTILINE):
        lines = []
        for line in block.splitlines():
            stripped = line.strip()
            if stripped.startswith("--"):  # "-- Mark Twain": the attribution ends the entry.
                break
            lines.append(re.sub(r"^[QA]:\s*", "", stripped))
        entry = " ".join(line for line in lines if line)
        if entry:
            entries.append(entry)
    return entries


def fortune_files(directory: Path = FORTUNES_DIR, names: Sequence[str] = DEFAULT_FORTUNE_FILES) -> list[Path]:
    """The existing fortune files among `names`; FileNotFoundError naming the packages if there are none."""
    paths = [directory / name for name in names if (directory / name).is_file()]
    if not paths:
        raise FileNotFoundError(
            f"no fortune files ({', '.join(names[:3])}, ...) under {directory}: install Debian's fortunes "
            f"(`{FORTUNES_INSTALL_HINT}`) or pass a sentence file"
        )
    return paths


def load_sentences(
    source: str | Path | Iterable[str] | None = None,
    column: str = "text",
    num_sentences: int | None = None,
    seed: int = 0,
    min_words: int = 3,
    max_words: int = 12,
) -> list[str]:
    """Return up to `num_sentences` distinct normalised sentences, in an order fixed by `seed`.

    `source`:
      - None: Debian's fortune files (`DEFAULT_FORTUNE_FILES` under `FORTUNES_DIR`), split into sentences;
      - a text file: one sentence per line;
      - a folder saved with `datasets` `save_to_disk` (Dataset or DatasetDict, all splits), read from `column`;
      - a `datasets.Dataset`/`DatasetDict`/`IterableDataset`, read from `column`;
      - any other iterable of strings (taken as sentences).
    Raises FileNotFoundError when the file/folder/packages are missing, KeyError when `column` is missing, and
    ValueError when nothing survives the filter or fewer than `num_sentences` sentences do.
    """
    raw, where = _raw_sentences(source, column)
    kept = {s for s in (clean_sentence(r, min_words, max_words) for r in raw) if s is not None}
    if not kept:
        raise ValueError(
            f"{where} yielded no usable sentences ({min_words}-{max_words} words of a-z, apostrophe and space)"
        )
    ordered = sorted(kept)  # independent of set order, so the seed alone fixes the shuffle
    ordered = [ordered[i] for i in np.random.default_rng(seed).permutation(len(ordered))]
    if num_sentences is not None:
        if num_sentences > len(ordered):
            raise ValueError(f"{where} has only {len(ordered)} usable sentences; {num_sentences} were asked for")
        ordered = ordered[:num_sentences]
    return ordered


def load_word_list(path: str | Path = DEFAULT_WORD_LIST) -> list[str]:
    """The distinct words of a word list (one per line) that pass `clean_sentence` as one-word sentences, in file
    order.

    An n-gram LM trained on them as one-word lines knows their spelling, so the search can spell a word its
    sentences never held (their n-gram statistics are left to the sentences). Raises FileNotFoundError naming the
    file (and, for the default, its Debian package).
    """
    path = Path(path)
    if not path.is_file():
        hint = " (apt-get install wamerican)" if path == DEFAULT_WORD_LIST else ""
        raise FileNotFoundError(f"word list {path} does not exist{hint}")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return list(dict.fromkeys(word for word in (clean_sentence(line, 1, 1) for line in lines) if word))


def _raw_sentences(source: str | Path | Iterable[str] | None, column: str) -> tuple[list[str], str]:
    """Unfiltered candidate sentences of `source` and a description of it for error messages."""
    if source is None:
        raw = []
        for path in fortune_files():
            for entry in fortune_entries(path):
                raw.extend(split_sentences(entry))
        return raw, f"the fortune files under {FORTUNES_DIR}"
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_file():
            return path.read_text(encoding="utf-8").splitlines(), f"sentence file {path}"
        if path.is_dir():
            import datasets

            return _column_texts(datasets.load_from_disk(str(path)), column, f"dataset folder {path}")
        raise FileNotFoundError(f"sentence source {path} does not exist (expected a text file or a saved dataset)")
    if hasattr(source, "column_names"):
        return _column_texts(source, column, f"dataset {type(source).__name__}")
    return [str(s) for s in source], "the given sentences"


def _column_texts(dataset, column: str, where: str) -> tuple[list[str], str]:
    import datasets

    parts = (
        list(dataset.values())
        if isinstance(dataset, (datasets.DatasetDict, datasets.IterableDatasetDict))
        else [dataset]
    )
    texts: list[str] = []
    for part in parts:
        names = part.column_names
        if names is not None and column not in names:
            raise KeyError(f"{where} has no column {column!r}; its columns are {names}")
        texts.extend(str(row[column]) for row in part.select_columns([column]))
    return texts, f"column {column!r} of {where}"
