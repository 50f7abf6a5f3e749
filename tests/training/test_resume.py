"""Kill -> resume: a run SIGKILLed while writing a checkpoint resumes from the last complete one and logs the
same losses as an unbroken run (CPU, 1e-6), for fine-tuning (dropout + SpecAugment) and pretraining (collator
masks + Gumbel noise + temperature schedule)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from .runs import losses, run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("mode", ["finetune", "pretrain"])
def test_killed_run_resumes_with_the_same_losses(mode, tmp_path):
    max_steps, save_steps, kill_at = 8, 3, 6
    _, reference = run(mode, str(tmp_path / "unbroken"), max_steps, save_steps=save_steps)

    out = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.training.resume_driver",
            mode,
            str(out),
            "--max_steps",
            str(max_steps),
            "--save_steps",
            str(save_steps),
            "--kill_at",
            str(kill_at),
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr[-3000:]
    names = sorted(os.listdir(out))
    # checkpoint-6 was being written when the process died: only its staging folder exists, never a partial
    # checkpoint-6 that get_last_checkpoint would pick.
    assert "checkpoint-3" in names and "checkpoint-6" not in names and f".tmp-checkpoint-{kill_at}" in names, names

    _, resumed = run(mode, str(out), max_steps, save_steps=save_steps, resume="auto")
    expected, got = losses(reference), losses(resumed)
    assert sorted(got) == list(range(1, max_steps + 1))
    for step in range(1, max_steps + 1):
        assert got[step] == pytest.approx(expected[step], abs=1e-6, rel=0), (step, got, expected)
    names = sorted(os.listdir(out))
    assert "checkpoint-6" in names and not [n for n in names if n.startswith(".tmp-")], names
