"""The Conformer convolution module option: in every layer when asked, padding-safe, saved, odd kernels only."""

import pytest
import torch

from hf_asr import LogMelWav2Vec2ForCTC
from hf_asr.modeling.conv_module import ConvolutionModule

from .helpers import features, tiny_config


def test_every_layer_gets_the_module_only_when_asked():
    with_module = LogMelWav2Vec2ForCTC(tiny_config(conv_module_kernel=5))
    without = LogMelWav2Vec2ForCTC(tiny_config())
    assert all(layer.conv_module.depthwise.kernel_size == (5,) for layer in with_module.wav2vec2.encoder.layers)
    assert all(layer.conv_module is None for layer in without.wav2vec2.encoder.layers)


def test_padding_never_reaches_valid_frames():
    torch.manual_seed(0)
    module = ConvolutionModule(hidden_size=8, kernel=5, layer_norm_eps=1e-5)
    x = torch.randn(1, 6, 8)
    mask = torch.tensor([[True, True, True, True, False, False]])
    padded = x.clone()
    padded[0, 4:] = 1e3  # garbage in the padded frames
    out = module(padded, mask)
    alone = module(x[:, :4], None)
    torch.testing.assert_close(out[:, :4], alone, atol=1e-5, rtol=0)


def test_the_module_sees_neighbouring_frames():
    torch.manual_seed(0)
    module = ConvolutionModule(hidden_size=8, kernel=3, layer_norm_eps=1e-5)
    x = torch.randn(1, 5, 8)
    changed = x.clone()
    changed[0, 2] += 1.0
    difference = (module(changed, None) - module(x, None)).abs().amax(-1)[0]  # (T,)
    assert (difference[1:4] > 0).all()  # the changed frame and its neighbours within the kernel
    torch.testing.assert_close(difference[[0, 4]], torch.zeros(2))  # beyond the kernel: untouched


def test_conformer_model_saves_and_loads(tmp_path):
    model = LogMelWav2Vec2ForCTC(tiny_config(conv_module_kernel=7)).eval()
    model.save_pretrained(tmp_path)
    loaded = LogMelWav2Vec2ForCTC.from_pretrained(tmp_path).eval()
    assert loaded.config.conv_module_kernel == 7
    batch = features([6000])
    with torch.no_grad():
        torch.testing.assert_close(loaded(**batch).logits, model(**batch).logits)


@pytest.mark.parametrize("kernel", [4, -1])
def test_bad_kernel_is_named(kernel):
    with pytest.raises((ValueError, TypeError), match="conv_module_kernel"):
        tiny_config(conv_module_kernel=kernel)
