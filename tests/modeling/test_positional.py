"""Positional options: rotary attention depends on relative offsets only; the depthwise form is cheaper; all save."""

import pytest
import torch

from hf_asr import LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC
from hf_asr.modeling.positional import RotaryEmbedding, apply_rotary

from .helpers import features, tiny_config


def test_rotary_scores_depend_only_on_the_offset():
    torch.manual_seed(0)
    head_dim, time = 8, 12
    rotary = RotaryEmbedding(head_dim)(time, torch.float32, torch.device("cpu"))
    q, k = torch.randn(head_dim), torch.randn(head_dim)
    # The same query and key at every frame: after rotation, score(m, n) must be a function of m - n.
    rotated_q = apply_rotary(q.expand(1, 1, time, head_dim), rotary)[0, 0]
    rotated_k = apply_rotary(k.expand(1, 1, time, head_dim), rotary)[0, 0]
    scores = rotated_q @ rotated_k.T  # (T, T)
    for offset in (-3, 0, 5):
        diagonal = torch.diagonal(scores, offset)
        torch.testing.assert_close(diagonal, diagonal[:1].expand_as(diagonal), atol=1e-5, rtol=0)
    assert not torch.allclose(torch.diagonal(scores, 0)[0], torch.diagonal(scores, 5)[0])
    torch.testing.assert_close(scores[0, 0], q @ k, atol=1e-5, rtol=0)  # frame 0 is not rotated


def test_rotary_model_is_sensitive_to_frame_order():
    model = LogMelWav2Vec2ForCTC(tiny_config(position_embedding="rotary")).eval()
    batch = features([8000])
    with torch.no_grad():
        forward = model(**batch).logits
        # Reversing the input in time: without positions, attention would be order-blind (up to the conv stem).
        backward = model(input_features=batch["input_features"].flip(1), attention_mask=batch["attention_mask"]).logits
    assert not torch.allclose(forward, backward.flip(1), atol=1e-3)


def test_depthwise_positional_conv_is_a_fraction_of_the_grouped_one():
    def positional_parameters(kind: str) -> int:
        model = LogMelWav2Vec2ForCTC(LogMelWav2Vec2Config.base(position_embedding=kind, num_hidden_layers=1))
        module = model.wav2vec2.encoder.pos_conv_embed
        return 0 if module is None else sum(p.numel() for p in module.parameters())

    conv, depthwise, rotary = (positional_parameters(kind) for kind in ("conv", "depthwise", "rotary"))
    assert depthwise < conv / 4 and rotary == 0


@pytest.mark.parametrize("kind", ["depthwise", "rotary"])
def test_position_options_save_and_load(tmp_path, kind):
    model = LogMelWav2Vec2ForCTC(tiny_config(position_embedding=kind)).eval()
    model.save_pretrained(tmp_path)
    loaded = LogMelWav2Vec2ForCTC.from_pretrained(tmp_path).eval()
    assert loaded.config.position_embedding == kind
    batch = features([6000])
    with torch.no_grad():
        torch.testing.assert_close(loaded(**batch).logits, model(**batch).logits)


def test_unknown_position_embedding_is_named():
    with pytest.raises(ValueError, match="position_embedding='sinusoidal' .* expected one of 'conv', 'depthwise'"):
        tiny_config(position_embedding="sinusoidal")
    with pytest.raises(ValueError, match="even head size"):
        tiny_config(position_embedding="rotary", hidden_size=60, num_attention_heads=4)
