"""torch.compile: the training steps trace without a graph break and give the eager losses.

The `aot_eager` backend runs dynamo and AOT autograd (where graph breaks and custom-op gradients show) without
inductor's C++ code generation, which would take minutes on two cores; `scripts/bench_model.py --compile` measures
the inductor speed.
"""

import pytest
import torch
from torch._dynamo.utils import counters

from .runs import losses, run


@pytest.mark.parametrize("mode", ["finetune", "pretrain"])
def test_compiled_training_matches_eager_without_graph_breaks(tmp_path, mode):
    torch._dynamo.reset()
    counters.clear()
    _, compiled = run(mode, str(tmp_path / "compiled"), 3, torch_compile=True, torch_compile_backend="aot_eager")
    assert dict(counters["graph_break"]) == {}
    assert counters["stats"]["unique_graphs"] >= 1  # the model did go through dynamo
    _, eager = run(mode, str(tmp_path / "eager"), 3)
    compiled_losses, eager_losses = losses(compiled), losses(eager)
    assert compiled_losses.keys() == eager_losses.keys() == {1, 2, 3}
    for step, loss in eager_losses.items():
        assert compiled_losses[step] == pytest.approx(loss, rel=1e-4), step
