"""Which corpus layout a path holds, and reading the listed layouts into a DatasetDict (the audio stays in its files).

    layout = detect_layout("data/LibriSpeech")         # "librispeech"
    corpus = read_layout("data/LibriSpeech", layout)   # DatasetDict: train-clean-100, dev-clean, ...
    describe_corpus("data/LibriSpeech", layout, corpus)
    # 'data/LibriSpeech: found a LibriSpeech tree: splits train-clean-100 (28539 utterances), dev-clean (2703 ...)'

The layouts (the names `detect_layout` returns, `LAYOUTS` describes them):
  saved         a folder written by `save_to_disk` (dataset_dict.json or state.json)
  librispeech   <root>/<split>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt, lines "ID TRANSCRIPT", ID.flac
                beside them; each top folder is a split named as it is (a root that is one split's tree: "train");
                columns audio, text, speaker_id, chapter_id, id
  common_voice  clips/ and train.tsv, dev.tsv, test.tsv -> splits train, validation, test (validated.tsv and the
                other TSVs are no split); path -> audio, sentence -> text, the other columns as they are; rows
                with an empty sentence are left out with a DroppedRowsWarning naming the file and how many
  nemo          JSON-lines manifests (audio_filepath relative to the manifest's folder, text, duration): a folder
                of them, split by file name (train/dev/test...: see `layout_readers.split_names`), or one manifest
                file: split "train"
  speechbrain   CSVs with ID, duration, wav, spk_id, wrd (`$data_root` in wav is the CSV's folder): a folder of
                them split by file name as manifests are, or one CSV file: "train"; wav -> audio, wrd -> text
  audiofolder   any other folder with audio files (`datasets`' audiofolder; transcripts from metadata.csv/jsonl)
  hub           a name that is no local path: a Hub dataset (needs network)
The four listed layouts (librispeech, common_voice, nemo, speechbrain) all have the transcript in "text" and
`datasets.Audio` over the listed paths in "audio"; a listed file that is missing is a CorpusError naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import datasets
from datasets.packaged_modules.audiofolder.audiofolder import AudioFolder

from .corpus_errors import CorpusError
from .layout_readers import (
    common_voice_tsvs,
    is_manifest,
    is_speechbrain_csv,
    librispeech_trees,
    looks_like_common_voice,
    manifest_files,
    read_common_voice,
    read_librispeech,
    read_manifest,
    read_speechbrain_csv,
    rows_to_dataset,
    speechbrain_csvs,
    split_names,
)

LAYOUTS = {
    "saved": "a saved dataset (save_to_disk)",
    "librispeech": "a LibriSpeech tree (<split>/<speaker>/<chapter>/*.trans.txt + .flac)",
    "common_voice": "a Common Voice folder (clips/ + train.tsv/dev.tsv/test.tsv)",
    "nemo": "NeMo manifests (*.json/*.jsonl lines with audio_filepath, text)",
    "speechbrain": "SpeechBrain CSVs (*.csv with wav, wrd columns)",
    "audiofolder": "an audiofolder (audio files + metadata.csv/jsonl)",
    "hub": "a Hub dataset",
}
_LISTED_FOLDERS: dict[str, Callable[[Path], bool]] = {
    "librispeech": lambda folder: bool(librispeech_trees(folder)),
    "common_voice": looks_like_common_voice,
    "nemo": lambda folder: bool(manifest_files(folder)),
    "speechbrain": lambda folder: bool(speechbrain_csvs(folder)),
}
_AUDIO_SUFFIXES = frozenset(AudioFolder.EXTENSIONS)


def detect_layout(source: str | Path) -> str:
    """The layout of `source` (a key of `LAYOUTS`); "hub" when it is no local path.

    CorpusError when a local folder holds no known layout or more than one, or a file is neither a NeMo manifest
    nor a SpeechBrain CSV; the message lists the layouts looked for.
    """
    path = Path(source)
    if not path.exists():
        return "hub"
    if path.is_file():
        if is_manifest(path):
            return "nemo"
        if is_speechbrain_csv(path):
            return "speechbrain"
        raise CorpusError(
            f"{path} is a file but neither a NeMo manifest nor a SpeechBrain CSV; a corpus is {looked_for()}"
        )
    if (path / "dataset_dict.json").exists() or (path / "state.json").exists():
        return "saved"
    found = [name for name, holds in _LISTED_FOLDERS.items() if holds(path)]
    if len(found) > 1:
        raise CorpusError(
            f"{path} holds more than one corpus layout: {'; '.join(LAYOUTS[name] for name in found)}. Give one "
            "manifest or CSV file, or keep each layout in a folder of its own"
        )
    if found:
        return found[0]
    if any(p.suffix.lower() in _AUDIO_SUFFIXES for p in path.rglob("*")):
        return "audiofolder"
    raise not_a_corpus(path, "no audio files")


def not_a_corpus(path: Path, reason: str) -> CorpusError:
    """The error for a folder that holds no corpus layout, listing those looked for."""
    return CorpusError(f"{path} is a folder but not a corpus ({reason}); looked for {looked_for()}")


def looked_for() -> str:
    return "; ".join(description for name, description in LAYOUTS.items() if name != "hub")


def read_layout(source: str | Path, layout: str, split: str | None = None) -> datasets.DatasetDict:
    """The splits of a librispeech, common_voice, nemo or speechbrain `source` (see the module docstring); with
    `split`, only that one is read.

    CorpusError naming the file and line of a bad entry, or the listing, the number missing and the first missing
    audio file; or the split asked for that is not there, with those that are.
    """
    path = Path(source)
    if layout == "librispeech":
        listings, read = librispeech_trees(path), read_librispeech
    elif layout == "common_voice":
        listings, read = common_voice_tsvs(path), read_common_voice
    elif layout == "nemo":
        listings, read = _listings(path, manifest_files), read_manifest
    elif layout == "speechbrain":
        listings, read = _listings(path, speechbrain_csvs), read_speechbrain_csv
    else:
        raise ValueError(
            f"layout {layout!r} is not one read_layout reads (librispeech, common_voice, nemo, speechbrain)"
        )
    if split is not None:
        if split not in listings:
            raise CorpusError(f"{path} has no split {split!r}; its splits are {list(listings)}")
        listings = {split: listings[split]}
    return datasets.DatasetDict(
        {
            split: rows_to_dataset(
                read(listing), f"the trans.txt files of {listing}" if layout == "librispeech" else str(listing)
            )
            for split, listing in listings.items()
        }
    )


def _listings(path: Path, find: Callable[[Path], list[Path]]) -> dict[str, Path]:
    return {"train": path} if path.is_file() else split_names(find(path))


def describe_corpus(source: str | Path, layout: str, corpus: object) -> str:
    """One line: where, the layout found, its splits and their sizes (unknown for streamed splits)."""
    kind = LAYOUTS.get(layout, layout).split(" (")[0]
    if not isinstance(corpus, dict):  # DatasetDict and IterableDatasetDict are dicts
        return f"{source}: found {kind}: {_size(corpus)}"
    return f"{source}: found {kind}: splits " + ", ".join(f"{name} ({_size(part)})" for name, part in corpus.items())


def _size(split: object) -> str:
    if not isinstance(split, datasets.Dataset):
        return "streamed"
    return f"{len(split)} utterance{'' if len(split) == 1 else 's'}"


__all__ = ["LAYOUTS", "detect_layout", "read_layout", "describe_corpus", "not_a_corpus", "looked_for"]
