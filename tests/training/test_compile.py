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


def test_ctc_step_traces_with_dynamic_shapes_and_spec_augment():
    """Two batch lengths under dynamic shapes (what the Trainer's recompile after a shape change does): SpecAugment's
    random spans and the CTC op trace, and the loss equals eager's for the same random draws."""
    from hf_asr import LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC

    torch._dynamo.reset()
    config = LogMelWav2Vec2Config.tiny(vocab_size=12, mask_time_prob=0.5, mask_time_min_masks=1)
    model = LogMelWav2Vec2ForCTC(config).train()
    compiled = torch.compile(model, backend="aot_eager", dynamic=True)
    for frames in (120, 150):
        features = torch.randn(2, frames, 80)
        mask = torch.ones(2, frames, dtype=torch.long)
        mask[1, frames // 2 :] = 0
        labels = torch.tensor([[1, 2, 3, 4], [5, 6, -100, -100]])
        torch.manual_seed(frames)
        loss = compiled(input_features=features, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.manual_seed(frames)
        expected = model(input_features=features, attention_mask=mask, labels=labels).loss
        assert loss.item() == pytest.approx(expected.item(), rel=1e-4)


def test_ctc_backward_op_output_matches_its_fake():
    """The compiled CTC gradient's fake (what inductor plans memory with) has the real kernel's shape and strides:
    the (T, B, V) log-probs are a transpose, and a fake copying their strides made inductor's step fail."""
    from hf_asr.modeling.losses import _compiled_ctc_losses_backward

    log_probs = torch.randn(2, 30, 6).log_softmax(-1).transpose(0, 1)  # (T, B, V), non-contiguous
    args = (torch.ones(2), log_probs, torch.tensor([[1, 2, 3], [4, 5, 0]]), torch.tensor([30, 20]),
            torch.tensor([3, 2]), 0, False)  # fmt: skip
    torch.library.opcheck(_compiled_ctc_losses_backward, args, test_utils=("test_faketensor",))
