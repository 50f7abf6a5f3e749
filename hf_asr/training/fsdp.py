"""What hf_asr's trainers need under FSDP2 (accelerate 1.15, transformers 5.24); used by `base.HfAsrTrainerMixin`.

- accelerate applies an FSDP configuration only on GPUs: on CPU (`use_cpu`) it runs DDP without a word, so
  `warn_if_not_applied` says so.
- For FSDP with `fsdp_cpu_ram_efficient_loading`, transformers loads the weights a checkpoint lacks (a new CTC head)
  on the meta device in every process but the first. accelerate then matches the optimizer's parameters to the
  sharded ones by storage address, which all meta tensors share (0): the head's weight and bias get mixed up
  (wrong updates, then a KeyError at the first checkpoint). `materialize_meta_parameters` gives them storage; their
  values come from the first process when accelerate shards the model.
- With a sharded state dict, `Trainer.save_model` writes no weights at all. And `save_pretrained` of a sharded model
  names its class, which FSDP2 turned into a generated `FSDP<name>` subclass defined in torch, in config.json's
  auto_map (and copies torch's files beside it). So gathered weights are saved from `unsharded_copy`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import torch
from torch import nn

logger = logging.getLogger(__name__)


def _fsdp_requested(args: Any) -> bool:
    """Whether the TrainingArguments (`--fsdp`) or `accelerate launch` (an FSDP config) ask for FSDP."""
    return bool(getattr(args, "fsdp", None)) or os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true"


def warn_if_not_applied(args: Any, accelerator: Any, fsdp_enabled: bool) -> None:
    if _fsdp_requested(args) and not fsdp_enabled:
        logger.warning(
            "FSDP was configured, but accelerate runs %s instead (it applies FSDP on GPUs only): the model is not "
            "sharded.",
            accelerator.distributed_type.value,
        )


def state_dict_is_sharded(accelerator: Any) -> bool:
    """Whether the FSDP plugin saves sharded state dicts (checkpoints of one file per process)."""
    return "FULL_STATE_DICT" not in str(accelerator.state.fsdp_plugin.state_dict_type)


def materialize_meta_parameters(model: nn.Module) -> int:
    """Give every module holding meta parameters (uninitialised) CPU storage; returns how many modules had some."""
    modules = [m for m in model.modules() if any(p.is_meta for p in m.parameters(recurse=False))]
    for module in modules:
        module.to_empty(device="cpu", recurse=False)
    return len(modules)


def unsharded_copy(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> nn.Module:
    """A plain instance of an FSDP2-sharded `PreTrainedModel`'s own class, holding the gathered `state_dict`."""
    from torch.distributed.fsdp import FSDPModule

    plain_class = next(c for c in type(model).__mro__ if not issubclass(c, FSDPModule))
    copy = plain_class(model.config)
    copy.load_state_dict(state_dict)
    return copy


__all__ = ["warn_if_not_applied", "state_dict_is_sharded", "materialize_meta_parameters", "unsharded_copy"]
