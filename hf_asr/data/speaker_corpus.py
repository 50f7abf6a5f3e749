"""A corpus for speaker-independent, open-vocabulary recognition: new sentences spoken by new voices at test time.

`build_speaker_corpus(out_dir, CorpusRecipe(...))` speaks sentences of Debian's fortunes (or another source) and
saves a `datasets.DatasetDict`:

  train             labelled utterances by the train speakers
  unlabelled        more audio by the train speakers, without a transcript column (the pretraining pool:
                    audio is cheap, transcripts are rare), sentences disjoint from every other split
  validation, test  sentences of their own, spoken only by held-out speakers (`speakers.draw_speakers`), so test
                    measures new sentences by new voices
  test_seen_voices  the test sentences again, spoken by train speakers: the comparison row of a per-voice table

Columns as in `corpus.FEATURES` (audio, text, speaker, sentence_id, duration; no text in `unlabelled`). Beside it:
`corpus_info.json` (the recipe, split sizes, the speakers of every split, synthesis time). `read_lm_text` gives
what an n-gram LM may be trained on: every sentence of the source (of any length up to `max_words`) except the
validation and test sentences and any sentence that contains one.

A folder whose stored recipe equals the requested one is loaded instead of rebuilt; any difference rebuilds it.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from ..modeling.atomic_write import staged_folder
from .corpus import _noise_seed, _synthesize_splits
from .sentences import load_sentences
from .speakers import DEFAULT_HELDOUT, draw_speakers
from .tts import ESPEAK, FLITE, Voice

CORPUS_INFO = "corpus_info.json"
# Bump when the builder's output changes for the same recipe, so that older folders are rebuilt.
# 3: held-out speakers and each split's voice assignment on random streams of their own; exact engine shares
BUILDER_VERSION = 3


@dataclass(frozen=True)
class CorpusRecipe:
    """Everything that fixes a corpus' content; stored with it and compared on reuse.

    Sentence counts are per split (test_seen_voices reuses the test sentences). Speakers: `train_speakers` settings
    for train and unlabelled, `heldout_speakers` for validation and test, drawn by `draw_speakers` with `heldout`
    patterns, `flite_share` (the share of train speakers whose voice comes from recordings: flite's and, when
    `engines` has it, festival's) and `heldout_flite_share` (the same for held-out speakers). The validation and test
    splits depend only on the seed, the sentence source and the held-out settings, not on train-side ones.
    `sentence_source`: None (Debian fortunes), a text file or a saved dataset, as in
    `load_sentences`; sentences have `min_words`..`max_words` words.
    """

    train_sentences: int = 5000
    unlabelled_sentences: int = 2500
    validation_sentences: int = 100
    test_sentences: int = 160
    seen_voice_test: bool = True
    train_speakers: int = 160
    heldout_speakers: int = 24
    heldout: tuple[str, ...] = DEFAULT_HELDOUT
    flite_share: float = 0.25
    heldout_flite_share: float = 0.25
    engines: tuple[str, ...] = (ESPEAK, FLITE)
    sentence_source: str | None = None
    min_words: int = 3
    max_words: int = 12
    noise_snr_db: float | None = None
    seed: int = 0
    builder_version: int = field(default=BUILDER_VERSION)

    def __post_init__(self) -> None:
        for name in ("train_sentences", "validation_sentences", "test_sentences"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.unlabelled_sentences < 0:
            raise ValueError(f"unlabelled_sentences must be >= 0, got {self.unlabelled_sentences}")
        if self.train_speakers < 1 or self.heldout_speakers < 1:
            raise ValueError(
                f"train_speakers and heldout_speakers must be >= 1, got {self.train_speakers}, {self.heldout_speakers}"
            )
        for name in ("flite_share", "heldout_flite_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}")

    def to_json(self) -> dict[str, Any]:
        """The recipe as stored in corpus_info.json (tuples as lists, as JSON gives them back)."""
        return json.loads(json.dumps(asdict(self)))


def stored_recipe(out_dir: str | Path) -> dict[str, Any] | None:
    """The recipe stored in a corpus folder, or None when there is no readable corpus_info.json."""
    try:
        return json.loads((Path(out_dir) / CORPUS_INFO).read_text()).get("recipe")
    except (OSError, ValueError):
        return None


def build_speaker_corpus(
    out_dir: str | Path, recipe: CorpusRecipe, num_workers: int = 2, reuse: bool = True
) -> datasets.DatasetDict:
    """Load `out_dir` when it holds a corpus of the same `recipe` (and `reuse`), else (re)build it atomically.

    Synthesis runs on `num_workers` processes with a progress bar. Raises ValueError when the sentence source has
    fewer usable sentences than the recipe needs.
    """
    out_dir = Path(out_dir).resolve()  # a link (a shared corpus) is written where it points
    if reuse and stored_recipe(out_dir) == recipe.to_json():
        print(f"[corpus] reusing {out_dir} (same recipe)", flush=True)
        return datasets.load_from_disk(str(out_dir))
    started = time.monotonic()
    needed = recipe.test_sentences + recipe.validation_sentences + recipe.train_sentences + recipe.unlabelled_sentences
    candidates = load_sentences(
        recipe.sentence_source, seed=recipe.seed, min_words=recipe.min_words, max_words=recipe.max_words
    )
    if len(candidates) < needed:
        raise ValueError(
            f"the recipe needs {needed} distinct sentences but the source has {len(candidates)}: lower the counts"
        )
    jobs = plan_utterances(recipe, candidates)
    with staged_folder(out_dir) as staging:
        corpus = _synthesize_splits(jobs, staging / ".arrow", recipe.noise_snr_db, num_workers)
        if "unlabelled" in corpus:
            corpus["unlabelled"] = corpus["unlabelled"].remove_columns(["text"])
        corpus.save_to_disk(str(staging))
        info = {
            "recipe": recipe.to_json(),
            "splits": {split: len(ds) for split, ds in corpus.items()},
            "hours": {split: round(float(np.sum(ds["duration"])) / 3600, 3) for split, ds in corpus.items()},
            "voices": {split: sorted({job[2].id for job in split_jobs}) for split, split_jobs in jobs.items()},
            "synthesis_seconds": round(time.monotonic() - started, 1),
        }
        (staging / CORPUS_INFO).write_text(json.dumps(info, indent=1))
        del corpus  # release the memory-mapped scratch files before deleting them
        shutil.rmtree(staging / ".arrow")
    return datasets.load_from_disk(str(out_dir))


def plan_utterances(recipe: CorpusRecipe, candidates: list[str]) -> dict[str, list[tuple[int, str, Voice, int]]]:
    """What each split speaks: (sentence index, sentence, speaker, noise seed) per utterance.

    Sentences are taken in order (test, validation, train, unlabelled) from `candidates`; each split assigns its
    speakers on a random stream of its own, so a split's plan does not change with another split's size.
    """
    bounds = np.cumsum(
        [0, recipe.test_sentences, recipe.validation_sentences, recipe.train_sentences, recipe.unlabelled_sentences]
    )
    ranges = dict(zip(("test", "validation", "train", "unlabelled"), (range(a, b) for a, b in zip(bounds, bounds[1:]))))
    pools = draw_speakers(
        recipe.train_speakers,
        recipe.heldout_speakers,
        recipe.seed,
        recipe.heldout,
        recipe.engines,
        recipe.flite_share,
        recipe.heldout_flite_share,
    )
    plan = {
        "train": (ranges["train"], pools.train),
        "unlabelled": (ranges["unlabelled"], pools.train),
        "validation": (ranges["validation"], pools.heldout),
        "test": (ranges["test"], pools.heldout),
    }
    if recipe.seen_voice_test:
        plan["test_seen_voices"] = (ranges["test"], pools.train)
    jobs = {}
    for k, (split, (indices, voices)) in enumerate(plan.items()):
        rng = np.random.default_rng([recipe.seed, 1, k])
        if len(indices):
            jobs[split] = [
                (i, candidates[i], voices[rng.integers(len(voices))], _noise_seed(recipe.seed, i, k)) for i in indices
            ]
    return jobs


def corpus_info(out_dir: str | Path) -> dict[str, Any]:
    """corpus_info.json of a corpus folder."""
    return json.loads((Path(out_dir) / CORPUS_INFO).read_text())


def read_lm_text(out_dir: str | Path, max_words: int = 60) -> list[str]:
    """LM training text for a corpus: the sentences (1..`max_words` words) of its recipe's source, without the
    validation and test sentences and without any sentence that contains one of them."""
    recipe = stored_recipe(out_dir)
    if recipe is None:
        raise FileNotFoundError(f"{out_dir} holds no speaker corpus ({CORPUS_INFO} is missing or unreadable)")
    corpus = datasets.load_from_disk(str(out_dir))
    held_out = sorted(
        {
            f" {text} "
            for name in ("validation", "test")
            if name in corpus
            for text in corpus[name].select_columns(["text"])["text"]
        }
    )
    candidates = load_sentences(recipe["sentence_source"], min_words=1, max_words=max_words)
    return [s for s in candidates if not any(text in f" {s} " for text in held_out)]  # whole words only


__all__ = ["CorpusRecipe", "build_speaker_corpus", "corpus_info", "plan_utterances", "read_lm_text", "stored_recipe"]
