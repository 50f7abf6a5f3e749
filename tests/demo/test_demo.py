"""The demo end to end at a toy size: every artefact the interface promises is written and consistent."""

import json

import pytest
from PIL import Image

from hf_asr.demo.run import DemoSettings, run_demo
from hf_asr.demo.sentences import closed_vocabulary_sentences, lm_text, pick_sentences

REPORT_KEYS = {"wer_greedy", "wer_lm", "cer_greedy", "cer_lm", "n_test_utterances", "pretrain_steps",
               "finetune_steps", "seconds"}


def test_closed_vocabulary_sentences_and_lm_text_exclude_test():
    candidates = closed_vocabulary_sentences(100)
    counts = {}
    for sentence in candidates:
        for word in sentence.split():
            counts[word] = counts.get(word, 0) + 1
    assert len(counts) <= 100
    chosen = pick_sentences(candidates, 20, seed=3)
    assert chosen == pick_sentences(candidates, 20, seed=3) and len(set(chosen)) == 20
    text = lm_text(candidates, chosen[:5])
    assert not set(chosen[:5]) & set(text)
    assert len(text) == len(candidates) - 5
    with pytest.raises(ValueError, match="only .* sentences fit the closed vocabulary"):
        pick_sentences(candidates, len(candidates) + 1, seed=0)


def test_demo_end_to_end_at_toy_size(tmp_path):
    settings = DemoSettings(
        out=str(tmp_path / "demo"), device="cpu", minutes=2, num_sentences=40, voices_per_sentence=2,
        vocabulary_size=150, pretrain_steps=6, finetune_steps=12, batch_size=8,
    )
    report = run_demo(settings)
    out = tmp_path / "demo"
    saved = json.loads((out / "report.json").read_text())
    assert REPORT_KEYS <= set(saved)
    assert saved["pretrain_steps"] == 6 and 1 <= saved["finetune_steps"] <= 12
    for key in ("wer_greedy", "wer_lm", "cer_greedy", "cer_lm"):
        assert 0.0 <= saved[key] <= 5.0  # fractions (a barely trained model may exceed 1 by insertions)
    assert saved["n_test_utterances"] == report["corpus"]["test"] > 0
    assert "| beam search + KenLM |" in (out / "report.md").read_text()
    for name in ("training_curves", "spectrogram_posteriors", "codebook_usage"):
        with Image.open(out / "plots" / f"{name}.png") as image:
            assert image.size[0] > 500 and image.size[1] > 200
    model_dir = out / "model"
    for name in ("config.json", "model.safetensors", "README.md", "model.py", "processor_config.json", "vocab.json"):
        assert (model_dir / name).exists(), name
    assert (model_dir / "language_model").is_dir()
    assert "Results on the test split" in (model_dir / "README.md").read_text()
