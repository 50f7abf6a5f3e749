"""Subprocess for test_resume: trains, and SIGKILLs itself in the middle of writing checkpoint `--kill_at`
(after the model files, before the optimizer state), as a crash or a pre-empted job would.

    python -m tests.training.resume_driver MODE OUTPUT_DIR --max_steps 8 --save_steps 3 --kill_at 6   (repo root)
"""

from __future__ import annotations

import argparse
import os
import signal

import torch
from transformers import Trainer

from tests.training.runs import run

torch.set_num_threads(1)

parser = argparse.ArgumentParser()
parser.add_argument("mode")
parser.add_argument("output_dir")
parser.add_argument("--max_steps", type=int, required=True)
parser.add_argument("--save_steps", type=int, required=True)
parser.add_argument("--kill_at", type=int, required=True)
options = parser.parse_args()

original = Trainer._save_optimizer_and_scheduler


def save_then_die(self, output_dir):
    if self.state.global_step == options.kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, output_dir)


Trainer._save_optimizer_and_scheduler = save_then_die
run(options.mode, options.output_dir, options.max_steps, save_steps=options.save_steps)
