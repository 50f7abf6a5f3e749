"""Readers of the files that list a corpus' audio: LibriSpeech trans.txt, Common Voice TSVs, NeMo JSON-lines
manifests, SpeechBrain CSVs.

Each reader gives rows, one dict per utterance with "audio" (an absolute file path) and "text" (its transcript)
plus the listing's other fields, and raises CorpusError naming the file and line of a bad entry.
`rows_to_dataset` turns rows into a `datasets.Dataset` whose audio column reads the files where they are.
"""

from __future__ import annotations

import csv
import json
import os
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from string import Template
from typing import Any, TextIO

import datasets
import pyarrow as pa

from .corpus_errors import CorpusError, DroppedRowsWarning

Rows = list[dict[str, Any]]

TRANS_GLOB = "*/*/*.trans.txt"  # below a LibriSpeech split: <speaker>/<chapter>/<speaker>-<chapter>.trans.txt
COMMON_VOICE_SPLITS = {"train.tsv": "train", "dev.tsv": "validation", "test.tsv": "test"}
MANIFEST_SUFFIXES = (".json", ".jsonl")
SPEECHBRAIN_COLUMNS = ("wav", "wrd")
SPLIT_WORDS = {
    "train": "train",
    "dev": "validation",
    "val": "validation",
    "valid": "validation",
    "validation": "validation",
    "test": "test",
}


# ---- LibriSpeech -------------------------------------------------------------------------------------------------
def librispeech_trees(root: Path) -> dict[str, Path]:
    """Split name -> folder: each folder of `root` with trans.txt files two levels down, named as it is
    ("train-clean-100"); a root that is itself one split's tree is {"train": root}; {} when there are none."""
    splits = {d.name: d for d in sorted(root.iterdir()) if d.is_dir() and _has_match(d, TRANS_GLOB)}
    if splits:
        return splits
    return {"train": root} if _has_match(root, TRANS_GLOB) else {}


def read_librispeech(tree: Path) -> Rows:
    """Rows of one split's tree: lines "ID TRANSCRIPT" of every trans.txt, the audio ID.flac beside it.

    Columns: audio, text, speaker_id, chapter_id (ints, from the folder names), id.
    """
    rows = []
    for listing in sorted(tree.absolute().glob(TRANS_GLOB)):
        chapter_folder = listing.parent
        speaker, chapter = _folder_number(chapter_folder.parent), _folder_number(chapter_folder)
        for number, line in _lines(listing):
            utterance, _, text = line.partition(" ")
            if not text.strip():
                raise CorpusError(f"{listing}, line {number}: expected 'ID TRANSCRIPT', got {line!r}")
            rows.append(
                {
                    "audio": str(chapter_folder / f"{utterance}.flac"),
                    "text": text.strip(),
                    "speaker_id": speaker,
                    "chapter_id": chapter,
                    "id": utterance,
                }
            )
    return rows


def _folder_number(folder: Path) -> int:
    if not folder.name.isdigit():
        raise CorpusError(f"{folder}: LibriSpeech names speaker and chapter folders by number, got {folder.name!r}")
    return int(folder.name)


# ---- Common Voice ------------------------------------------------------------------------------------------------
def looks_like_common_voice(folder: Path) -> bool:
    return (folder / "clips").is_dir() and any(folder.glob("*.tsv"))


def common_voice_tsvs(folder: Path) -> dict[str, Path]:
    """Split -> TSV: train.tsv, dev.tsv ("validation"), test.tsv; the other TSVs (validated.tsv...) are no split.
    CorpusError when there is none of the three."""
    found = {split: folder / name for name, split in COMMON_VOICE_SPLITS.items() if (folder / name).is_file()}
    if not found:
        present = sorted(p.name for p in folder.glob("*.tsv"))
        raise CorpusError(
            f"{folder} looks like a Common Voice folder (clips/ and {present}) but has none of "
            f"{list(COMMON_VOICE_SPLITS)}, the TSVs that become splits"
        )
    return found


def read_common_voice(listing: Path) -> Rows:
    """Rows of a Common Voice TSV: "path" (a file in clips/) -> audio, "sentence" -> text, the other columns
    (client_id, ...) as strings. Rows with an empty sentence are left out with a DroppedRowsWarning."""
    clips = listing.parent.absolute() / "clips"
    rows, dropped = [], 0
    with _open_text(listing) as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)  # sentences hold bare quotes
        _require_columns(reader.fieldnames, ("path", "sentence"), listing)
        for row in _csv_rows(reader, listing):
            clip, sentence = row.pop("path"), row.pop("sentence")
            if not clip:
                raise CorpusError(f"{listing}, line {reader.line_num}: no file in column 'path'")
            if not (sentence or "").strip():
                dropped += 1
                continue
            rows.append({"audio": str(clips / clip), "text": sentence, **{k: v or "" for k, v in row.items()}})
    if dropped:
        warnings.warn(
            f"{listing}: left out {dropped} of {dropped + len(rows)} rows whose 'sentence' is empty",
            DroppedRowsWarning,
            stacklevel=2,
        )
    return rows


# ---- NeMo manifests ----------------------------------------------------------------------------------------------
def is_manifest(path: Path) -> bool:
    """A .json/.jsonl file whose first line is a JSON object with "audio_filepath"."""
    if path.suffix not in MANIFEST_SUFFIXES or not path.is_file():
        return False
    try:
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
        entry = json.loads(first)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(entry, dict) and "audio_filepath" in entry


def manifest_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if is_manifest(p))


def read_manifest(listing: Path) -> Rows:
    """Rows of a NeMo manifest, one JSON object a line: "audio_filepath" (relative to the manifest's folder)
    -> audio, "text", and the other fields (duration, ...) as they are."""
    folder = listing.parent.absolute()
    rows = []
    for number, line in _lines(listing):
        where = f"{listing}, line {number}"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            raise CorpusError(f"{where} is not JSON ({error.msg}): {line[:80]!r}") from error
        if not isinstance(entry, dict):
            raise CorpusError(f"{where}: expected a JSON object, got {type(entry).__name__} {line[:80]!r}")
        audio, text = entry.pop("audio_filepath", None), entry.pop("text", None)
        if not isinstance(audio, str) or not audio:
            raise CorpusError(f'{where} has no "audio_filepath" (a file path): {line[:80]!r}')
        if not isinstance(text, str):
            raise CorpusError(f'{where} has no "text" (a string): {line[:80]!r}')
        if entry.get("offset"):
            raise CorpusError(
                f"{where} is a segment (offset {entry['offset']}) of a longer file, which is not supported: "
                "cut the file into one file per utterance"
            )
        rows.append({"audio": _absolute(audio, folder), "text": text, **entry})
    return rows


# ---- SpeechBrain CSVs --------------------------------------------------------------------------------------------
def is_speechbrain_csv(path: Path) -> bool:
    """A .csv file whose header has the columns wav and wrd."""
    if path.suffix != ".csv" or not path.is_file():
        return False
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return all(column in header for column in SPEECHBRAIN_COLUMNS)


def speechbrain_csvs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if is_speechbrain_csv(p))


def read_speechbrain_csv(listing: Path) -> Rows:
    """Rows of a SpeechBrain CSV (ID, duration, wav, spk_id, wrd): wav -> audio, wrd -> text, duration as seconds.

    `$data_root` (or `${data_root}`) in wav stands for the CSV's folder; relative paths are relative to it too.
    """
    folder = listing.parent.absolute()
    rows = []
    with _open_text(listing) as handle:
        reader = csv.DictReader(handle)
        _require_columns(reader.fieldnames, SPEECHBRAIN_COLUMNS, listing)
        for row in _csv_rows(reader, listing):
            where = f"{listing}, line {reader.line_num}"
            wav = Template(row.pop("wav") or "").safe_substitute(data_root=str(folder))
            text = row.pop("wrd")
            if not wav or text is None:
                raise CorpusError(f"{where}: no {'file in column wav' if not wav else 'column wrd'}")
            if "duration" in row:
                row["duration"] = _seconds(row["duration"], where)
            rows.append({"audio": _absolute(wav, folder), "text": text, **row})
    return rows


def _seconds(value: str | None, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise CorpusError(f"{where}: duration {value!r} is not a number of seconds") from None


# ---- shared ------------------------------------------------------------------------------------------------------
def split_names(listings: list[Path]) -> dict[str, Path]:
    """Split name -> listing file. A file whose name has the word train, dev/val/valid/validation or test
    ("train_manifest.json", "dev-clean.csv") gives train/validation/test when no other file gives the same;
    otherwise a split is named by its file name without the extension. One file alone is "train"."""
    said = {listing: _split_word(listing.stem) for listing in listings}
    if len(listings) == 1 and said[listings[0]] is None:
        return {"train": listings[0]}
    counts = Counter(said.values())
    named: dict[str, Path] = {}
    for listing in listings:
        name = said[listing] if said[listing] and counts[said[listing]] == 1 else listing.stem
        if name in named:
            raise CorpusError(f"{named[name]} and {listing} would both be split {name!r}: keep one of them")
        named[name] = listing
    return named


def _split_word(stem: str) -> str | None:
    words = {SPLIT_WORDS[w] for w in re.split(r"[^a-z0-9]+", stem.lower()) if w in SPLIT_WORDS}
    return words.pop() if len(words) == 1 else None


def rows_to_dataset(rows: Rows, listed_in: str) -> datasets.Dataset:
    """The rows as a Dataset, "audio" a `datasets.Audio` column over the file paths (read only when decoded).

    Written once into datasets' cache (`from_generator`, keyed by the rows), so that `map` over it writes cache
    files too instead of holding the results in memory. CorpusError naming `listed_in`, how many listed files
    are missing and the first, when some do not exist; or when a column mixes types.
    """
    missing = [row["audio"] for row in rows if not os.path.isfile(row["audio"])]
    if missing:
        raise CorpusError(
            f"{len(missing)} of the {len(rows)} audio files listed in {listed_in} are missing, the first: {missing[0]}"
        )
    try:
        schema = pa.Table.from_pylist(rows).schema if rows else pa.schema({"audio": pa.string(), "text": pa.string()})
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise CorpusError(f"the fields listed in {listed_in} mix value types: {error}") from error
    features = datasets.Features.from_arrow_schema(schema)
    features["audio"] = datasets.Audio()
    return datasets.Dataset.from_generator(_yield_rows, gen_kwargs={"rows": rows}, features=features)


def _yield_rows(rows: Rows) -> Iterator[dict[str, Any]]:
    yield from rows


def _absolute(path: str, folder: Path) -> str:
    return os.path.join(folder, os.path.expanduser(path))  # an absolute path stays as it is


def _has_match(folder: Path, pattern: str) -> bool:
    return next(iter(folder.glob(pattern)), None) is not None


def _open_text(listing: Path) -> TextIO:
    try:
        return listing.open(encoding="utf-8", newline="")
    except OSError as error:
        raise CorpusError(f"cannot read {listing}: {error}") from error


def _lines(listing: Path) -> Iterator[tuple[int, str]]:
    """(line number, line without its end) of each non-blank line of a UTF-8 file."""
    with _open_text(listing) as handle:
        number = 0
        try:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line.rstrip("\r\n")
        except UnicodeDecodeError as error:
            raise CorpusError(f"{listing}, line {number + 1} is not UTF-8 text ({error})") from error


def _csv_rows(reader: csv.DictReader, listing: Path) -> Iterator[dict[str, str | None]]:
    """The rows of a CSV/TSV reader, cells beyond the header dropped; errors name the file and line."""
    try:
        for row in reader:
            row.pop(None, None)
            yield row
    except (csv.Error, UnicodeDecodeError) as error:
        raise CorpusError(f"{listing}, line {reader.line_num + 1}: {error}") from error


def _require_columns(header: list[str] | None, columns: tuple[str, ...], listing: Path) -> None:
    missing = [c for c in columns if c not in (header or [])]
    if missing:
        raise CorpusError(f"{listing} has no column(s) {missing}; its header is {header}")


__all__ = [
    "librispeech_trees",
    "read_librispeech",
    "looks_like_common_voice",
    "common_voice_tsvs",
    "read_common_voice",
    "is_manifest",
    "manifest_files",
    "read_manifest",
    "is_speechbrain_csv",
    "speechbrain_csvs",
    "read_speechbrain_csv",
    "split_names",
    "rows_to_dataset",
]
