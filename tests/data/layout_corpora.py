"""Tiny corpora in the layouts users bring (LibriSpeech, Common Voice, NeMo manifests, SpeechBrain CSVs), written
into a folder: tones of 1 s and more (long enough for their transcripts under CTC with the tiny model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile

RATE = 16_000


def write_audio(path: Path, seconds: float, frequency: float = 440.0) -> np.ndarray:
    """A tone of `seconds` written to `path` (wav or flac by its suffix); returns the samples written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * RATE)) / RATE
    samples = (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    soundfile.write(path, samples, RATE)
    return samples


def make_librispeech(root: Path) -> dict[str, np.ndarray]:
    """LibriSpeech/ with train-clean-100 (speakers 103 and 19: 3 utterances) and dev-clean (1); the samples by ID."""
    written = {}
    utterances = {
        "train-clean-100/103/1240": {"103-1240-0000": "chapter one", "103-1240-0001": "missus rachel lynde"},
        "train-clean-100/19/198": {"19-198-0000": "northanger abbey"},
        "dev-clean/251/136": {"251-136-0000": "he hoped"},
    }
    for index, (folder, lines) in enumerate(utterances.items()):
        chapter = root / "LibriSpeech" / folder
        for offset, utterance in enumerate(lines):
            written[utterance] = write_audio(chapter / f"{utterance}.flac", 1.0 + 0.1 * offset, 300 + 100 * index)
        listing = chapter / f"{chapter.parent.name}-{chapter.name}.trans.txt"
        listing.write_text("".join(f"{utterance} {text.upper()}\n" for utterance, text in lines.items()))
    return written


def make_common_voice(folder: Path, train_sentences: tuple[str, ...] = ("hello there", "good morning")) -> Path:
    """clips/ + train.tsv (the given sentences), dev.tsv, test.tsv (one each) and validated.tsv (all)."""
    header = "client_id\tpath\tsentence\tup_votes\tdown_votes\tage\tgender\taccents\tlocale\tsegment\n"
    rows = {"train": train_sentences, "dev": ("see you soon",), "test": ('"yes" she said',)}
    everything = []
    for split, sentences in rows.items():
        lines = []
        for index, sentence in enumerate(sentences):
            clip = f"common_voice_en_{split}_{index}.wav"
            write_audio(folder / "clips" / clip, 1.0 + 0.05 * index)
            lines.append(f"client{index}\t{clip}\t{sentence}\t2\t0\ttwenties\t\t\ten\t\n")
        (folder / f"{split}.tsv").write_text(header + "".join(lines))
        everything += lines
    (folder / "validated.tsv").write_text(header + "".join(everything))
    return folder


def make_nemo(folder: Path) -> Path:
    """train_manifest.json (3 lines: relative and absolute paths) and dev_manifest.json (1) over audio/*.wav."""
    entries = {"train_manifest.json": ["one two", "three", "four five six"], "dev_manifest.json": ["seven"]}
    for manifest, texts in entries.items():
        lines = []
        for index, text in enumerate(texts):
            relative = f"audio/{manifest.split('_')[0]}_{index}.wav"
            seconds = len(write_audio(folder / relative, 1.0 + 0.1 * index)) / RATE
            audio = str(folder / relative) if index == 1 else relative  # both forms occur
            lines.append(json.dumps({"audio_filepath": audio, "text": text, "duration": seconds}) + "\n")
        (folder / manifest).write_text("".join(lines))
    return folder


def make_speechbrain(folder: Path) -> Path:
    """train.csv (2 rows, wav under $data_root) and valid.csv (1 row, a relative wav path)."""
    rows = {"train": [("u1", "spk1", "a cat"), ("u2", "spk2", "a dog")], "valid": [("u3", "spk1", "a bird")]}
    for split, entries in rows.items():
        lines = ["ID,duration,wav,spk_id,wrd\n"]
        for utterance, speaker, words in entries:
            seconds = len(write_audio(folder / "wavs" / f"{utterance}.wav", 1.0)) / RATE
            wav = f"$data_root/wavs/{utterance}.wav" if split == "train" else f"wavs/{utterance}.wav"
            lines.append(f"{utterance},{seconds},{wav},{speaker},{words}\n")
        (folder / f"{split}.csv").write_text("".join(lines))
    return folder
