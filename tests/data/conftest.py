"""Fixtures for the data tests: one tiny synthetic corpus per session, built with both TTS engines."""

from __future__ import annotations

from pathlib import Path

import pytest

SENTENCES = [
    "the cat sat on the mat",
    "a stitch in time saves nine",
    "look before you leap into the water",
    "all that glitters is not gold",
    "the early bird catches the worm every morning",
    "do not count your chickens before they hatch",
    "every cloud has a silver lining",
    "actions speak louder than words",
]


@pytest.fixture(scope="session")
def sentence_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sentences") / "sentences.txt"
    path.write_text("\n".join(SENTENCES) + "\n")
    return path


@pytest.fixture(scope="session")
def tiny_corpus_dir(tmp_path_factory: pytest.TempPathFactory, sentence_file: Path) -> Path:
    """8 sentences x 2 voices = 16 utterances in train/validation/test, synthesised by 2 worker processes."""
    from hf_asr.data.corpus import build_corpus

    out = tmp_path_factory.mktemp("corpora") / "tiny"
    build_corpus(out, num_sentences=8, voices_per_sentence=2, seed=0, sentence_source=sentence_file, num_workers=2)
    return out
