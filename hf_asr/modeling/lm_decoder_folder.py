"""The saved LM decoder folder: its file names, the one reader and writer, and where a model keeps it.

Layout (pyctcdecode's own, so `pyctcdecode.BeamSearchDecoderCTC.load_from_dir` reads it too, plus one file for
the search settings), read by `LMDecoder` and by hf_asr's flashlight backend:

    alphabet.json                  {"labels": [...], "is_bpe": false}, one label per CTC output id
    language_model/attrs.json      alpha, beta, unk_score_offset, score_boundary
    language_model/unigrams.txt    the LM's words, one per line
    language_model/lm.bin          the KenLM model (binary; `lm.arpa` when built from an ARPA file)
    lm_decoder_config.json         beam_width, beam_prune_logp, token_min_logp, hotword_weight

Standard library and transformers only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from .atomic_write import atomic_write_text, staged_folder

LM_DIR = "language_model"
ALPHABET_FILE = "alphabet.json"
ATTRS_FILE = "attrs.json"
UNIGRAMS_FILE = "unigrams.txt"
SEARCH_CONFIG_FILE = "lm_decoder_config.json"
KENLM_SUFFIXES = (".bin", ".binary", ".arpa")
ALPHABET_KEYS = {"labels", "is_bpe"}


class DecoderFolder(NamedTuple):
    """What a saved decoder folder holds; `search` is empty when lm_decoder_config.json is absent."""

    labels: list[str]
    kenlm_path: Path
    unigrams: list[str]
    lm_params: dict[str, Any]
    search: dict[str, Any]


def has_saved_decoder(directory: str | os.PathLike) -> bool:
    """Whether `directory` holds a saved decoder (a `language_model/` folder)."""
    return (Path(directory) / LM_DIR).is_dir()


def read_unigrams(path: str | os.PathLike) -> list[str]:
    """Words of an `unigrams.txt` file: one per line, surrounding white space and blank lines dropped.

    A missing file raises FileNotFoundError; an unreadable one ValueError naming it.
    """
    return [line.strip() for line in _read_text(Path(path)).splitlines() if line.strip()]


def read_decoder_folder(directory: str | os.PathLike) -> DecoderFolder:
    """Read a folder written by `write_decoder_folder` (or pyctcdecode's `save_to_dir`).

    Missing files raise FileNotFoundError naming the path, unreadable or malformed ones ValueError naming it:
    there is no silent fallback to decoding without the LM.
    """
    directory = Path(directory)
    lm_dir = directory / LM_DIR
    alphabet_file = directory / ALPHABET_FILE
    for required in (lm_dir, alphabet_file, lm_dir / ATTRS_FILE, lm_dir / UNIGRAMS_FILE):
        if not required.exists():
            raise FileNotFoundError(f"LM decoder file {required} is missing (write it with save_pretrained)")
    lm_files = sorted(p for p in lm_dir.iterdir() if p.suffix in KENLM_SUFFIXES)
    if len(lm_files) != 1:
        found = [p.name for p in lm_files]
        raise FileNotFoundError(f"expected one KenLM file (.bin/.arpa) in {lm_dir}, found {found}")
    alphabet = _read_json(alphabet_file)
    if set(alphabet) != ALPHABET_KEYS:
        raise ValueError(f"LM decoder file {alphabet_file} has keys {sorted(alphabet)}, not {sorted(ALPHABET_KEYS)}")
    search_file = directory / SEARCH_CONFIG_FILE
    return DecoderFolder(
        labels=alphabet["labels"],
        kenlm_path=lm_files[0],
        unigrams=read_unigrams(lm_dir / UNIGRAMS_FILE),
        lm_params=_read_json(lm_dir / ATTRS_FILE),
        search=_read_json(search_file) if search_file.exists() else {},
    )


def write_decoder_folder(
    directory: str | os.PathLike,
    *,
    alphabet_json: str,
    kenlm_path: Path,
    unigrams: Iterable[str],
    lm_params: dict[str, Any],
    search: dict[str, Any],
) -> Path:
    """Write the decoder files into `directory` (an existing folder, e.g. a model's), replacing older ones
    atomically: `language_model/` is built in a hidden sibling folder and swapped into place, then each JSON
    file is renamed over its old copy. Returns the path of the copied KenLM file."""
    directory = Path(directory)
    lm_name = "lm.arpa" if kenlm_path.suffix == ".arpa" else "lm.bin"
    with staged_folder(directory / LM_DIR) as lm_dir:
        shutil.copyfile(kenlm_path, lm_dir / lm_name)
        (lm_dir / UNIGRAMS_FILE).write_text("".join(w + "\n" for w in sorted(unigrams)), encoding="utf-8")
        (lm_dir / ATTRS_FILE).write_text(json.dumps(lm_params, indent=1))
    atomic_write_text(directory / ALPHABET_FILE, alphabet_json)
    atomic_write_text(directory / SEARCH_CONFIG_FILE, json.dumps(search, indent=1))
    return directory / LM_DIR / lm_name


def write_decoder_params(directory: str | os.PathLike, lm_params: dict[str, Any], search: dict[str, Any]) -> None:
    """Rewrite only attrs.json and lm_decoder_config.json of a saved decoder, each renamed into place."""
    directory = Path(directory)
    if not has_saved_decoder(directory):
        raise FileNotFoundError(f"no saved LM decoder in {directory} (missing {directory / LM_DIR})")
    atomic_write_text(directory / LM_DIR / ATTRS_FILE, json.dumps(lm_params, indent=1))
    atomic_write_text(directory / SEARCH_CONFIG_FILE, json.dumps(search, indent=1))


def find_saved_decoder(name_or_path: str | os.PathLike, **hub_kwargs: Any) -> Path | None:
    """Local folder holding the decoder files of a model folder or Hub repo, or None if it has no LM.

    A Hub repo's files are fetched into transformers' cache (its snapshot folder keeps the layout); `hub_kwargs`
    (revision, token, cache_dir, local_files_only, ...) go to `transformers.utils.cached_file`.
    """
    if Path(name_or_path).is_dir():
        return Path(name_or_path) if has_saved_decoder(name_or_path) else None
    from transformers.utils import cached_file

    hub_kwargs = {k: v for k, v in hub_kwargs.items() if k in ("revision", "token", "cache_dir", "local_files_only")}
    attrs = cached_file(
        str(name_or_path),
        f"{LM_DIR}/{ATTRS_FILE}",
        _raise_exceptions_for_missing_entries=False,
        _raise_exceptions_for_connection_errors=False,
        **hub_kwargs,
    )
    if attrs is None:
        return None
    for name in (ALPHABET_FILE, f"{LM_DIR}/{UNIGRAMS_FILE}", SEARCH_CONFIG_FILE, f"{LM_DIR}/lm.bin"):
        cached_file(str(name_or_path), name, _raise_exceptions_for_missing_entries=False, **hub_kwargs)
    return Path(attrs).parents[1]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read LM decoder file {path}: {error}") from error


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read_text(path))
    except json.JSONDecodeError as error:
        raise ValueError(f"LM decoder file {path} is not valid JSON: {error}") from error
