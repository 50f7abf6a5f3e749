"""Build a synthetic speech corpus: real sentences spoken by many TTS voices, split by sentence, saved to disk.

Layout of the result (a `datasets.DatasetDict` with splits train/validation/test, those with a positive fraction):
  audio        Audio(sampling_rate=16000): 16-bit PCM wav bytes, decoded lazily by datasets (torchcodec)
  text         normalised transcript (a-z, apostrophe, space)
  speaker      voice id (`Voice.id`), shared across splits
  sentence_id  index of the sentence; each sentence lives in exactly one split
  duration     seconds of audio (float), for duration batching without decoding
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path

import datasets
import numpy as np
from datasets.arrow_writer import ArrowWriter
from tqdm.auto import tqdm

from ..modeling.atomic_write import staged_folder
from ..modeling.value_rules import COUNT, check_optional, check_value
from .sentences import load_sentences
from .speakers import default_voices
from .tts import ESPEAK, FLITE, SAMPLING_RATE, Voice, bytes_of_wav, check_snr_db, synthesize

SPLITS = ("train", "validation", "test")
FEATURES = datasets.Features(
    {
        "audio": datasets.Audio(sampling_rate=SAMPLING_RATE),
        "text": datasets.Value("string"),
        "speaker": datasets.Value("string"),
        "sentence_id": datasets.Value("int32"),
        "duration": datasets.Value("float32"),
    }
)
# One job: (sentence_id, text, voice, noise seed).
Job = tuple[int, str, Voice, int]


def split_by_sentence(num_sentences: int, fractions: Sequence[float]) -> list[range]:
    """Contiguous index ranges, one per split, sized by `fractions` (normalised to sum 1).

    Every split with a positive fraction gets at least one sentence; train takes the rounding remainder.
    Raises ValueError if there are fewer sentences than such splits.
    """
    if len(fractions) != len(SPLITS) or not all(np.isfinite(f) and f >= 0 for f in fractions) or sum(fractions) <= 0:
        raise ValueError(
            f"split_fractions must be {len(SPLITS)} finite non-negative numbers (train, validation, test), not all 0; "
            f"got {tuple(fractions)}"
        )
    total = float(sum(fractions))
    needed = sum(f > 0 for f in fractions)
    if num_sentences < needed:
        raise ValueError(f"{num_sentences} sentence(s) cannot fill {needed} non-empty splits; ask for more sentences")
    sizes = [max(1, round(num_sentences * f / total)) if f > 0 else 0 for f in fractions[1:]]
    sizes.insert(0, num_sentences - sum(sizes))
    if fractions[0] > 0 and sizes[0] < 1:
        raise ValueError(f"{num_sentences} sentences leave none for train with split_fractions={tuple(fractions)}")
    starts = np.cumsum([0, *sizes])
    return [range(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:])]


def build_corpus(
    out_dir: str | Path,
    num_sentences: int,
    voices_per_sentence: int,
    seed: int = 0,
    sentence_source: str | Path | Iterable[str] | None = None,
    noise_snr_db: float | None = None,
    split_fractions: Sequence[float] = (0.8, 0.1, 0.1),
    num_workers: int = 2,
    num_voices: int | None = None,
    overwrite: bool = False,
    engines: Sequence[str] = (ESPEAK, FLITE),
) -> datasets.DatasetDict:
    """Speak `num_sentences` sentences with `voices_per_sentence` voices each and save the corpus to `out_dir`.

    Sentences come from `load_sentences(sentence_source, ...)` (Debian fortunes by default), voices from the pool
    `default_voices(num_voices, seed, engines)` (num_voices defaults to max(12, 2 * voices_per_sentence)); each
    sentence draws its voices from the pool without replacement. Splits are by sentence, so no validation/test
    sentence is ever heard in train.
    `seed` fixes sentences, voices, splits and noise. Synthesis runs on `num_workers` processes.
    The corpus is written to a temporary folder beside `out_dir`, then renamed into place, so `out_dir` is either
    absent or complete; an existing `out_dir` raises FileExistsError unless `overwrite`.
    Returns the saved DatasetDict, loaded back from `out_dir`. Also writes `out_dir/corpus_info.json` (arguments,
    voices, split sizes).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"{out_dir} already exists; pass overwrite=True (--overwrite) or choose another folder")
    check_value("num_sentences (--num-sentences)", num_sentences, COUNT)
    check_value("voices_per_sentence (--voices-per-sentence)", voices_per_sentence, COUNT)
    check_value("num_workers (--num-workers)", num_workers, COUNT)
    check_optional("num_voices (--num-voices)", num_voices, COUNT)
    if noise_snr_db is not None:
        noise_snr_db = check_snr_db(noise_snr_db)  # before any synthesis: NaN would only show as silent audio
    num_voices = num_voices or max(12, 2 * voices_per_sentence)
    if not 1 <= voices_per_sentence <= num_voices:
        raise ValueError(f"voices_per_sentence={voices_per_sentence} must be in 1..num_voices={num_voices}")
    voices = default_voices(num_voices, seed, engines)  # checks the engines are installed, naming the apt package
    sentences = load_sentences(sentence_source, num_sentences=num_sentences, seed=seed)
    ranges = split_by_sentence(len(sentences), split_fractions)

    rng = np.random.default_rng(seed)
    jobs: dict[str, list[Job]] = {}
    for split, indices in zip(SPLITS, ranges):
        if not indices:  # a split with fraction 0 is left out (an empty saved split cannot be loaded back)
            continue
        jobs[split] = [
            (i, sentences[i], voices[v], _noise_seed(seed, i, k))
            for i in indices
            for k, v in enumerate(rng.choice(num_voices, size=voices_per_sentence, replace=False))
        ]

    with staged_folder(out_dir) as staging:
        corpus = _synthesize_splits(jobs, staging / ".arrow", noise_snr_db, num_workers)
        corpus.save_to_disk(str(staging))
        info = {
            "num_sentences": len(sentences),
            "voices_per_sentence": voices_per_sentence,
            "seed": seed,
            "noise_snr_db": noise_snr_db,
            "split_fractions": list(split_fractions),
            "sentence_source": str(sentence_source) if isinstance(sentence_source, (str, Path)) else None,
            "splits": {split: len(ds) for split, ds in corpus.items()},
            "voices": [v.id for v in voices],
        }
        (staging / "corpus_info.json").write_text(json.dumps(info, indent=1))
        del corpus  # release the memory-mapped scratch files before deleting them
        shutil.rmtree(staging / ".arrow")
    return datasets.load_from_disk(str(out_dir))


def _noise_seed(seed: int, sentence_id: int, k: int) -> int:
    """Seed of the noise of the k-th utterance of a sentence: fixed by the job, not by which worker runs it."""
    return int(np.random.SeedSequence([seed, sentence_id, k]).generate_state(1)[0])


def _synthesize_splits(
    jobs: dict[str, list[Job]], folder: Path, noise_snr_db: float | None, num_workers: int
) -> datasets.DatasetDict:
    """Synthesise every job and stream the rows into one Arrow file per split (rows never all sit in memory)."""
    folder.mkdir(parents=True)
    tagged = [(split, job) for split, split_jobs in jobs.items() for job in split_jobs]
    make_row = _RowMaker(noise_snr_db)
    writers = {split: ArrowWriter(features=FEATURES, path=str(folder / f"{split}.arrow")) for split in jobs}
    with ExitStack() as stack:
        for writer in writers.values():
            stack.callback(writer.close)
        if num_workers > 1:
            # fork: workers inherit the imported modules (spawn would re-import torch/transformers, seconds each).
            pool = stack.enter_context(multiprocessing.get_context("fork").Pool(num_workers, _init_worker))
            rows = pool.imap(make_row, tagged, chunksize=4)
        else:
            rows = map(make_row, tagged)
        for split, row in tqdm(rows, total=len(tagged), desc="Speaking sentences", unit="utt"):
            writers[split].write(FEATURES.encode_example(row))
        for writer in writers.values():
            writer.finalize()
    return datasets.DatasetDict(
        {split: datasets.Dataset.from_file(str(folder / f"{split}.arrow")) for split, split_jobs in jobs.items()}
    )


class _RowMaker:
    """Picklable (split, job) -> (split, row) for the worker pool."""

    def __init__(self, noise_snr_db: float | None) -> None:
        self.noise_snr_db = noise_snr_db

    def __call__(self, tagged_job: tuple[str, Job]) -> tuple[str, dict]:
        split, (sentence_id, text, voice, noise_seed) = tagged_job
        audio = synthesize(text, voice, SAMPLING_RATE, self.noise_snr_db, noise_seed)
        return split, {
            "audio": {
                "bytes": bytes_of_wav(audio, SAMPLING_RATE),
                "path": f"{sentence_id:06d}-{voice.id.replace(':', '_')}.wav",
            },
            "text": text,
            "speaker": voice.id,
            "sentence_id": sentence_id,
            "duration": len(audio) / SAMPLING_RATE,
        }


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)  # one process per core; resampling must not oversubscribe
