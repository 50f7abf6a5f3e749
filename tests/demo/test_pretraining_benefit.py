"""examples/pretraining_benefit.py runs end to end at toy size and reports a consistent table."""

import json
import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pretraining_benefit_example_at_toy_size(tmp_path, monkeypatch, capsys):
    out = tmp_path / "benefit"
    argv = ["pretraining_benefit.py", "--out", str(out), "--device", "cpu", "--num-sentences", "24",
            "--voices-per-sentence", "1", "--label-fraction", "0.5", "--pretrain-steps", "2",
            "--finetune-steps", "2", "--max-seconds-per-batch", "20"]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(ROOT / "examples" / "pretraining_benefit.py"), run_name="__main__")
    report = json.loads((out / "pretraining_benefit.json").read_text())
    results = report["results"]
    assert set(results) == {"pretrained", "scratch"}
    train_size = json.loads((out / "corpus" / "corpus_info.json").read_text())["splits"]["train"]
    assert report["labelled_utterances"] == int(0.5 * train_size)  # only the asked fraction carries labels
    expected = 1 - results["pretrained"]["wer"] / results["scratch"]["wer"]
    assert abs(report["relative_wer_reduction"] - expected) < 1e-9
    assert "relative WER reduction from pretraining" in capsys.readouterr().out
