"""Run under `accelerate launch --config_file FSDP_CONFIG -m tests.training.fsdp_on_cpu COMMAND ... [--then
COMMAND ...]` (repo root) by test_fsdp: `hf_asr.cli` commands, one after another in the same processes, with FSDP
really applied on the CPU.

accelerate 1.15 applies an FSDP config only on GPUs: on CPU it puts the processes in its MULTI_CPU (DDP) mode and
drops the FSDP plugin, without a warning. Here its state is set to FSDP after it is built, as it is on GPUs, so that
accelerate's FSDP2 code runs on gloo: `fully_shard` per EncoderLayer, sharded checkpoints, their loading, the
gathered final weights. torch's `fully_shard` itself supports CPU tensors.
"""

from __future__ import annotations

import functools
import sys

import torch
from accelerate.state import AcceleratorState, PartialState
from accelerate.utils import DistributedType

from hf_asr.cli import main

torch.set_num_threads(1)
_build_state = AcceleratorState.__init__


@functools.wraps(_build_state)
def _build_state_with_fsdp(self, *args, fsdp_plugin=None, **kwargs):
    _build_state(self, *args, fsdp_plugin=fsdp_plugin, **kwargs)
    if fsdp_plugin is not None and self.distributed_type == DistributedType.MULTI_CPU:
        self.fsdp_plugin = fsdp_plugin
        self.distributed_type = PartialState._shared_state["distributed_type"] = DistributedType.FSDP


AcceleratorState.__init__ = _build_state_with_fsdp

arguments = sys.argv[1:]
while arguments:
    end = arguments.index("--then") if "--then" in arguments else len(arguments)
    status = main(arguments[:end])
    if status:
        sys.exit(status)
    arguments = arguments[end + 1 :]
