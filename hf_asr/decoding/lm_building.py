"""Build a KenLM n-gram model from text: normalise like transcripts, `lmplz` -> ARPA, `build_binary` -> binary.

Output folder (what `LMDecoder` needs): `lm.bin` (KenLM binary), `unigrams.txt` (the words, one per line;
pyctcdecode cannot read them from a binary; read it with `read_unigrams`), `ngram_tables.npz` (the n-grams as
arrays for `beam_search="batched"`, read from the ARPA file: KenLM's binary cannot be read back) unless
`ngram_tables=False`, and `lm.arpa` when `keep_arpa=True`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from ..data.text import normalize_transcript
from ..modeling.decoder_options import positive_int
from ..modeling.lm_decoder_folder import read_unigrams as read_unigrams  # re-exported: reads LMFiles.unigrams
from ..modeling.ngram_tables import NGRAM_TABLES_FILE, read_arpa

INSTALL_HINT = "bash scripts/setup.sh"
CHECKOUT_DIR = Path(__file__).resolve().parents[2]  # = Path(hf_asr.__file__).parents[1]: setup.sh puts tools/ there


@dataclass(frozen=True)
class LMFiles:
    """Paths of a built LM and what went into it."""

    binary: Path
    unigrams: Path
    arpa: Path | None
    num_sentences: int
    num_words: int
    ngram_tables: Path | None = None


def find_kenlm_tool(name: str) -> Path:
    """Path of KenLM's `lmplz` or `build_binary`: `tools/bin/` of the hf_asr checkout first, then PATH."""
    local = CHECKOUT_DIR / "tools" / "bin" / name
    if local.is_file() and os.access(local, os.X_OK):
        return local
    found = shutil.which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(
        f"KenLM's `{name}` was not found in {local.parent} nor on PATH; build it with `{INSTALL_HINT}` "
        "(compiles lmplz and build_binary from the kenlm source package)"
    )


def iter_text(
    source: str | os.PathLike | Iterable[str], text_column: str = "text", split: str | None = "train"
) -> Iterator[str]:
    """Raw lines of `source`: a text file (one sentence per line), a corpus (column `text_column`; a `datasets`
    folder saved with `save_to_disk` or any layout `hf_asr.data.loading.load_corpus` reads: a LibriSpeech tree,
    NeMo manifests, ...; of a DatasetDict only `split`, so that dev/test transcripts stay out of the LM; split=None
    reads every split), or an iterable of strings."""
    if not isinstance(source, (str, os.PathLike)):
        if not isinstance(source, Iterable):
            raise TypeError(f"LM text source must be a path or an iterable of str, got {type(source).__name__}")
        yield from source
        return
    path = Path(source)
    layout = _corpus_layout(path)
    if layout is None and path.is_file():
        with path.open("rb") as file:  # decoded line by line, so that a bad byte is reported with its line
            for number, raw in enumerate(file, start=1):
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    message = f"LM text {path}: line {number} is not UTF-8 text ({error}); convert it"
                    raise ValueError(message) from error
    elif layout is not None:
        import datasets

        if layout == "saved":  # text-only datasets too: load_corpus wants an audio column
            loaded = datasets.load_from_disk(str(path))
        else:
            from ..data.loading import load_corpus

            loaded = load_corpus(path, split=split, text_column=text_column)
        if isinstance(loaded, datasets.DatasetDict) and split is not None:
            if split not in loaded:
                raise KeyError(
                    f"dataset {path} has no split {split!r} (splits: {list(loaded)}); pass split=None for all"
                )
            loaded = loaded[split]
        splits = loaded.values() if isinstance(loaded, datasets.DatasetDict) else [loaded]
        for split in splits:
            if text_column not in split.column_names:
                raise KeyError(f"dataset {path} has no column {text_column!r} (columns: {split.column_names})")
            yield from split.select_columns([text_column])[text_column]  # without decoding any audio
    else:
        raise FileNotFoundError(f"LM text source {path} does not exist (expected a text file or a corpus)")


def _corpus_layout(path: Path) -> str | None:
    """The corpus layout at `path` (`hf_asr.data.layouts`), None for a text file or a missing path."""
    from ..data.layout_readers import is_manifest, is_speechbrain_csv
    from ..data.layouts import detect_layout

    if not path.exists() or path.is_file() and not (is_manifest(path) or is_speechbrain_csv(path)):
        return None
    return detect_layout(path)


def build_lm(
    text_source: str | os.PathLike | Iterable[str],
    out_dir: str | os.PathLike,
    order: int = 4,
    text_column: str = "text",
    split: str | None = "train",
    memory: str = "1G",
    keep_arpa: bool = False,
    prune: Iterable[int] | None = None,
    normalizer: Callable[[str], str] | None = None,
    ngram_tables: bool = True,
) -> LMFiles:
    """Train an `order`-gram KenLM on `text_source` (see `iter_text` for `text_column`/`split`) into `out_dir`.

    Each line goes through `normalizer` (the model's `processor.text_normalizer`, so LM words match what the CTC
    model spells; default: `normalize_transcript`). `--discount_fallback` lets lmplz handle tiny corpora; `memory`
    is lmplz's `-S` (sorting memory); `prune` is lmplz's `--prune` counts per order (e.g. [0, 0, 1] to drop
    singleton 3-grams+). `ngram_tables=False` skips the tables (their reading takes ~10 s per million n-grams).
    Raises FileNotFoundError when lmplz/build_binary are missing, TypeError naming the row for a line that is not
    a str (an empty dataset cell, say), and ValueError naming the source when no words remain.
    """
    if positive_int("order", order) < 2:
        raise ValueError(f"order must be >= 2 (lmplz needs bigrams at least), got {order}")
    prune = None if prune is None else [_prune_count(i, count) for i, count in enumerate(prune)]
    lmplz, build_binary = find_kenlm_tool("lmplz"), find_kenlm_tool("build_binary")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-lm-", dir=out) as tmp:
        corpus, arpa, binary = Path(tmp) / "corpus.txt", Path(tmp) / "lm.arpa", Path(tmp) / "lm.bin"
        words: set[str] = set()
        num_sentences = num_lines = 0
        normalize = normalizer or normalize_transcript
        with corpus.open("w", encoding="utf-8") as file:
            lines = iter_text(text_source, text_column, split)
            for index, line in enumerate(tqdm(lines, desc="normalising LM text", unit=" lines")):
                if not isinstance(line, str):
                    raise TypeError(
                        f"LM text {_describe(text_source)}: line {index} is {line!r} ({type(line).__name__}), "
                        "not a str; drop or fill empty cells first"
                    )
                num_lines += 1
                sentence = normalize(line)
                if sentence:
                    file.write(sentence + "\n")
                    words.update(sentence.split())
                    num_sentences += 1
        if not words:
            raise ValueError(_no_words_message(text_source, num_lines))
        command = [str(lmplz), "-o", str(int(order)), "-S", memory, "-T", tmp, "--discount_fallback"]
        if prune:
            command += ["--prune", *map(str, prune)]
        steps = [
            ("lmplz", command, corpus, arpa),
            ("build_binary", [str(build_binary), str(arpa), str(binary)], None, None),
        ]
        for name, cmd, stdin_path, stdout_path in tqdm(steps, desc=f"building {order}-gram KenLM", unit="step"):
            _run(name, cmd, stdin_path, stdout_path)
        unigrams = Path(tmp) / "unigrams.txt"
        unigrams.write_text("".join(w + "\n" for w in sorted(words)), encoding="utf-8")
        targets = [(binary, out / "lm.bin"), (unigrams, out / "unigrams.txt")]
        if ngram_tables:
            tables = read_arpa(arpa).save(Path(tmp) / NGRAM_TABLES_FILE)
            targets.append((tables, out / NGRAM_TABLES_FILE))
        else:
            (out / NGRAM_TABLES_FILE).unlink(missing_ok=True)  # an older LM's tables would not fit this one
        if keep_arpa:
            targets.append((arpa, out / "lm.arpa"))
        for source, target in targets:
            os.replace(source, target)  # same filesystem: each file appears complete or not at all
    return LMFiles(
        binary=out / "lm.bin",
        unigrams=out / "unigrams.txt",
        arpa=out / "lm.arpa" if keep_arpa else None,
        num_sentences=num_sentences,
        num_words=len(words),
        ngram_tables=out / NGRAM_TABLES_FILE if ngram_tables else None,
    )


def _describe(text_source: str | os.PathLike | Iterable[str]) -> str:
    return str(text_source) if isinstance(text_source, (str, os.PathLike)) else "(the given lines)"


def _no_words_message(text_source: str | os.PathLike | Iterable[str], num_lines: int) -> str:
    if num_lines == 0:
        return f"the LM text {_describe(text_source)} is empty: there is nothing to train the LM on"
    return (
        f"the LM text {_describe(text_source)} has no words after normalisation: all {num_lines} line(s) became "
        "empty (the text normaliser keeps letters and apostrophes, and digits as words or characters unless it "
        "drops them; punctuation and symbols become spaces)"
    )


def _prune_count(index: int, count: object) -> int:
    """One of lmplz's --prune thresholds: a whole number >= 0."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"prune[{index}] must be a whole number >= 0 (lmplz --prune), got {count!r}")
    return count


def _run(name: str, command: list[str], stdin_path: Path | None, stdout_path: Path | None) -> None:
    """Run a KenLM tool; on failure raise RuntimeError with the command and the end of its stderr."""
    stdin = stdin_path.open("rb") if stdin_path else subprocess.DEVNULL
    stdout = stdout_path.open("wb") if stdout_path else subprocess.DEVNULL
    try:
        result = subprocess.run(command, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, check=False)
    finally:
        for handle in (stdin, stdout):
            if hasattr(handle, "close"):
                handle.close()
    if result.returncode != 0:
        tail = result.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"{name} failed (exit {result.returncode}): {' '.join(command)}\n" + "\n".join(tail))
