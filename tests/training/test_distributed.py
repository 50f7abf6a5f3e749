"""Two real CPU processes (gloo) under `accelerate launch`: world size 2, and the same loss curves as one process
with the same global batch (CTC with unequal usable utterances per process; pretraining per masked frame)."""

from __future__ import annotations

import json

import pytest

from .launching import accelerate_launch
from .runs import deterministic_ctc_run, deterministic_pretraining_run, losses


def test_two_processes_match_one_process(tmp_path):
    two_processes = ["--multi_gpu", "--num_processes", "2", "--num_machines", "1"]
    process = accelerate_launch(
        [*two_processes, "--mixed_precision", "no", "--dynamo_backend", "no"],
        "tests.training.ddp_script",
        str(tmp_path),
    )
    assert process.returncode == 0, process.stderr[-4000:]
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in reports] == [2, 2]
    assert [r["backend"] for r in reports] == ["gloo", "gloo"]
    assert reports[0]["duration"] == reports[1]["duration"] and len(reports[0]["duration"]) == 2

    # One process, same global batch: 4 per device instead of 2 on each of 2 processes (GA 2 in both).
    _, ctc_single = deterministic_ctc_run(str(tmp_path / "single_ctc"), per_device_batch_size=4)
    _, pretraining_single = deterministic_pretraining_run(str(tmp_path / "single_pretrain"), per_device_batch_size=4)
    for report in reports:  # every process logs the global value
        ctc = {int(k): v for k, v in report["ctc"].items()}
        assert ctc == pytest.approx(losses(ctc_single), abs=1e-5, rel=0)
        pretraining = {int(k): v for k, v in report["pretrain"].items()}
        assert pretraining == pytest.approx(losses(pretraining_single), abs=1e-5, rel=0)
    assert (
        reports[0]["ctc_skipped"][-1]
        == [h for h in ctc_single if "skipped_utterances" in h][-1]["skipped_utterances"]
        > 0
    )
    masked_single = [h["num_masked_frames"] for h in pretraining_single if "num_masked_frames" in h]
    assert reports[0]["pretrain_masked"] == masked_single
