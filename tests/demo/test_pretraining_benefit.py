"""examples/pretraining_benefit.py runs end to end at toy size and reports a consistent table."""

import json
import runpy
import sys
from pathlib import Path

import pytest
from PIL import Image

from .test_demo import TOY_CORPUS

ROOT = Path(__file__).resolve().parents[2]


def test_pretraining_benefit_example_at_toy_size(tmp_path, monkeypatch, capsys):
    out = tmp_path / "benefit"
    argv = [
        "pretraining_benefit.py",
        "--out",
        str(out),
        "--device",
        "cpu",
        "--preset",
        "cpu",
        "--minutes",
        "1",
        "--label-fraction",
        "0.5",
        "--set",
        f"corpus={json.dumps(TOY_CORPUS)}",
        "--set",
        "reserve_seconds=20",
        "--set",
        "eval_steps=50",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(ROOT / "examples" / "pretraining_benefit.py"), run_name="__main__")
    report = json.loads((out / "pretraining_benefit.json").read_text())
    results = report["results"]
    assert set(results) == {"pretrained", "scratch"}
    info = json.loads((out / "corpus" / "corpus_info.json").read_text())
    assert report["labelled_utterances"] == int(0.5 * info["splits"]["train"])  # only the asked fraction
    assert report["pool_utterances"] == info["splits"]["train"] + info["splits"]["unlabelled"]
    assert report["pool_utterances"] > report["labelled_utterances"]
    expected = 1 - results["pretrained"]["wer_greedy"] / results["scratch"]["wer_greedy"]
    assert report["relative_wer_reduction"] == pytest.approx(expected)
    expected_cer = 1 - results["pretrained"]["cer_greedy"] / results["scratch"]["cer_greedy"]
    assert report["relative_cer_reduction"] == pytest.approx(expected_cer)
    # each arm's evaluations, every 50 steps up to its last step
    for arm, curve in report["validation_curves"].items():
        steps = [point["step"] for point in curve]
        assert steps and steps == sorted(steps) and steps[-1] == results[arm]["finetune_steps"], arm
        assert all(step % 50 == 0 for step in steps[:-1]), arm
        assert all({"eval_loss", "eval_cer", "eval_wer"} <= set(point) for point in curve), arm
    with Image.open(out / "pretraining_benefit.png") as image:
        assert image.size[0] > 500 and image.size[1] > 200
    printed = capsys.readouterr().out
    assert "relative WER reduction from pretraining" in printed and "validation CER during fine-tuning" in printed
