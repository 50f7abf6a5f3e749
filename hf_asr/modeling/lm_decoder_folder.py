"""The saved LM decoder folder: its file names, the one reader and writer, and where a model keeps it.

Layout (pyctcdecode's own, so `pyctcdecode.BeamSearchDecoderCTC.load_from_dir` reads it too, plus one file for
the search settings), read by `LMDecoder` and by hf_asr's flashlight backend:

    alphabet.json                  {"labels": [...], "is_bpe": false}, one label per CTC output id
    language_model/attrs.json      alpha, beta, unk_score_offset, score_boundary
    language_model/unigrams.txt    the LM's words, one per line
    language_model/lm.bin          the KenLM model (binary; `lm.arpa` when built from an ARPA file)
    lm_decoder_config.json         beam_width, beam_prune_logp, token_min_logp, hotword_weight, max_segment_frames,
                                   beam_search
    ngram_tables.npz               the LM as arrays for beam_search="batched" (`ngram_tables.py`), when built by
                                   `build-lm`; beside language_model/, whose 3 files pyctcdecode insists on

Standard library and transformers only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

from .atomic_write import atomic_write_bytes, atomic_write_text, staged_folder
from .decoder_options import check_labels, check_lm_params, check_search_settings

LM_DIR = "language_model"
ALPHABET_FILE = "alphabet.json"
ATTRS_FILE = "attrs.json"
UNIGRAMS_FILE = "unigrams.txt"
SEARCH_CONFIG_FILE = "lm_decoder_config.json"
NGRAM_TABLES_FILE = "ngram_tables.npz"
KENLM_SUFFIXES = (".bin", ".binary", ".arpa")
KENLM_BINARY_MAGIC = b"mmap lm http://kheafield.com/code format version"  # how every KenLM binary file starts
ARPA_HEADER = b"\\data\\"  # the first non-blank line of an ARPA file
ALPHABET_KEYS = {"labels", "is_bpe"}
DECODER_TRACES = (ALPHABET_FILE, SEARCH_CONFIG_FILE)  # written beside language_model/ only with a decoder


class MissingLanguageModelWarning(UserWarning):
    """A model folder was saved with an LM decoder whose `language_model/` folder is gone: decoding is greedy."""


class DecoderFolder(NamedTuple):
    """What a saved decoder folder holds; `search` is empty when lm_decoder_config.json is absent."""

    labels: list[str]
    kenlm_path: Path
    unigrams: list[str]
    lm_params: dict[str, Any]
    search: dict[str, Any]
    ngram_tables: Path | None = None


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

    Missing files raise FileNotFoundError naming the path; unreadable or malformed ones (invalid JSON, bad option
    values, a KenLM file that is neither binary nor ARPA) ValueError naming the file and what is wrong: there is
    no silent fallback to decoding without the LM.
    """
    directory = Path(directory)
    lm_dir = directory / LM_DIR
    alphabet_file = directory / ALPHABET_FILE
    if not lm_dir.is_dir():
        raise FileNotFoundError(
            f"{directory} has no saved LM decoder ({lm_dir} is missing); build one into it with "
            f"`hf-asr build-lm --text TEXT --out LM_DIR --model {directory}`"
        )
    for required in (alphabet_file, lm_dir / ATTRS_FILE, lm_dir / UNIGRAMS_FILE):
        if not required.exists():
            raise FileNotFoundError(f"LM decoder file {required} is missing (write it with save_pretrained)")
    lm_files = sorted(p for p in lm_dir.iterdir() if p.suffix in KENLM_SUFFIXES)
    if len(lm_files) != 1:
        found = [p.name for p in lm_files]
        raise FileNotFoundError(f"expected one KenLM file (.bin/.arpa) in {lm_dir}, found {found}")
    check_kenlm_file(lm_files[0])
    alphabet = _read_json_object(alphabet_file)
    if set(alphabet) != ALPHABET_KEYS:
        raise ValueError(f"LM decoder file {alphabet_file} has keys {sorted(alphabet)}, not {sorted(ALPHABET_KEYS)}")
    try:
        labels = check_labels(alphabet["labels"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"LM decoder file {alphabet_file}: {error}") from error
    search_file = directory / SEARCH_CONFIG_FILE
    return DecoderFolder(
        labels=labels,
        kenlm_path=lm_files[0],
        unigrams=read_unigrams(lm_dir / UNIGRAMS_FILE),
        lm_params=_read_options(lm_dir / ATTRS_FILE, check_lm_params),
        search=_read_options(search_file, check_search_settings) if search_file.exists() else {},
        ngram_tables=directory / NGRAM_TABLES_FILE if (directory / NGRAM_TABLES_FILE).is_file() else None,
    )


def check_kenlm_file(path: str | os.PathLike) -> None:
    """Raise FileNotFoundError if the KenLM model at `path` is missing, ValueError (naming it) if it is neither a
    KenLM binary nor an ARPA file: KenLM itself reports such files with a UnicodeDecodeError or worse."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"KenLM model {path} does not exist (build one with `hf-asr build-lm`)")
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError as error:
        raise ValueError(f"cannot read KenLM model {path}: {error}") from error
    if not head.startswith(KENLM_BINARY_MAGIC) and not head.lstrip().startswith(ARPA_HEADER):
        what = "it is empty" if not head else f"it starts with {head[:24]!r}"
        raise ValueError(
            f"cannot load KenLM model {path}: corrupt or not a KenLM file ({what}; a KenLM binary starts with "
            f"'{KENLM_BINARY_MAGIC[:7].decode()}...' and an ARPA file with '{ARPA_HEADER.decode()}'); rebuild it "
            "with `hf-asr build-lm`"
        )


def write_decoder_folder(
    directory: str | os.PathLike,
    *,
    alphabet_json: str,
    kenlm_path: Path,
    unigrams: Iterable[str],
    lm_params: dict[str, Any],
    search: dict[str, Any],
    ngram_tables: Path | None = None,
) -> Path:
    """Write the decoder files into `directory` (an existing folder, e.g. a model's), replacing older ones
    atomically: `language_model/` is built in a hidden sibling folder and swapped into place, then each JSON
    file is renamed over its old copy. Returns the path of the copied KenLM file."""
    directory = Path(directory)
    lm_name = "lm.arpa" if kenlm_path.suffix == ".arpa" else "lm.bin"
    tables_target = directory / NGRAM_TABLES_FILE
    if tables_target.exists() and (ngram_tables is None or ngram_tables.resolve() != tables_target.resolve()):
        tables_target.unlink()  # first, so that no crash below leaves an older LM's tables beside this LM
    with staged_folder(directory / LM_DIR) as lm_dir:
        shutil.copyfile(kenlm_path, lm_dir / lm_name)
        (lm_dir / UNIGRAMS_FILE).write_text("".join(w + "\n" for w in sorted(unigrams)), encoding="utf-8")
        (lm_dir / ATTRS_FILE).write_text(json.dumps(lm_params, indent=1))
    atomic_write_text(directory / ALPHABET_FILE, alphabet_json)
    atomic_write_text(directory / SEARCH_CONFIG_FILE, json.dumps(search, indent=1))
    if ngram_tables is not None and not tables_target.exists():
        atomic_write_bytes(tables_target, Path(ngram_tables).read_bytes())
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
        if has_saved_decoder(name_or_path):
            return Path(name_or_path)
        warn_if_language_model_missing(name_or_path)
        return None
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
    for name in (ALPHABET_FILE, f"{LM_DIR}/{UNIGRAMS_FILE}", SEARCH_CONFIG_FILE, f"{LM_DIR}/lm.bin", NGRAM_TABLES_FILE):
        cached_file(str(name_or_path), name, _raise_exceptions_for_missing_entries=False, **hub_kwargs)
    return Path(attrs).parents[1]


def warn_if_language_model_missing(directory: str | os.PathLike) -> None:
    """Warn (`MissingLanguageModelWarning`, naming the folder and the missing files) when `directory` holds the
    files saved beside a decoder (alphabet.json, lm_decoder_config.json) but no `language_model/` folder: the
    model was saved with an LM that is now gone, and would otherwise decode greedily without a word."""
    directory = Path(directory)
    traces = [name for name in DECODER_TRACES if (directory / name).is_file()]
    if not traces or has_saved_decoder(directory):
        return
    warnings.warn(
        f"model folder {directory} was saved with an LM decoder ({', '.join(traces)} are there) but its "
        f"{LM_DIR}/ folder ({ATTRS_FILE}, {UNIGRAMS_FILE}, lm.bin) is missing: it decodes greedily, without the LM. "
        f"Restore {directory / LM_DIR}, rebuild it with `hf-asr build-lm --model {directory}`, or delete "
        f"{' and '.join(traces)} to use the folder without an LM.",
        MissingLanguageModelWarning,
        stacklevel=3,
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read LM decoder file {path}: {error}") from error


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(_read_text(path))
    except json.JSONDecodeError as error:
        raise ValueError(f"LM decoder file {path} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise ValueError(f"LM decoder file {path} must hold a JSON object, got {type(value).__name__} {value!r}")
    return value


def _read_options(path: Path, check: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A JSON file of decoder options, each checked by `check` (see `decoder_options.py`); errors name the file."""
    options = _read_json_object(path)
    try:
        return check(**options)
    except (TypeError, ValueError) as error:
        raise ValueError(f"LM decoder file {path}: {error}") from error
