"""Run under `accelerate launch -m tests.training.ddp_script OUT_DIR` (repo root) by test_distributed: the
deterministic CTC and pretraining runs of runs.py on this process's share of the data, and a short run with
duration batching; writes what it saw to <out_dir>/rank<r>.json."""

from __future__ import annotations

import json
import os
import sys

import torch
import torch.distributed as dist

from tests.training.runs import deterministic_ctc_run, deterministic_pretraining_run, losses, run

torch.set_num_threads(1)

out_dir = sys.argv[1]
_, ctc_history = deterministic_ctc_run(os.path.join(out_dir, "ctc"), per_device_batch_size=2)
report = {
    "world_size": dist.get_world_size() if dist.is_initialized() else 1,
    "rank": dist.get_rank() if dist.is_initialized() else 0,
    "backend": dist.get_backend() if dist.is_initialized() else None,
    "ctc": losses(ctc_history),
    "ctc_skipped": [h["skipped_utterances"] for h in ctc_history if "skipped_utterances" in h],
}
_, pretraining_history = deterministic_pretraining_run(os.path.join(out_dir, "pretrain"), per_device_batch_size=2)
report["pretrain"] = losses(pretraining_history)
report["pretrain_masked"] = [h["num_masked_frames"] for h in pretraining_history if "num_masked_frames" in h]
# Duration batching under DDP: one batch list, dealt out to the processes by accelerate.
_, duration_history = run("finetune", os.path.join(out_dir, "duration"), 2, max_seconds_per_batch=3.0)
report["duration"] = losses(duration_history)
with open(os.path.join(out_dir, f"rank{report['rank']}.json"), "w") as handle:
    json.dump(report, handle)
