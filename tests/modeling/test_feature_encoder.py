import pytest
import torch

from hf_asr.modeling.feature_encoder import ConvFeatureEncoder, conv_output_lengths


@pytest.mark.parametrize(
    "kernels,strides", [([5, 3], [2, 1]), ([3, 3], [2, 2]), ([4], [3]), ([10, 3, 3, 2, 2], [5, 2, 2, 2, 2]), ([1], [1])]
)
def test_output_length_formula_matches_real_convolution(kernels, strides):
    encoder = ConvFeatureEncoder(8, [4] * len(kernels), kernels, strides, bias=True)
    for length in [0, 1, 2, 3, 7, 16, 33, 100]:
        expected = int(conv_output_lengths(torch.tensor([length]), kernels, strides)[0])
        if expected == 0:  # the convolution itself refuses an input shorter than its kernel
            with pytest.raises(RuntimeError):
                encoder(torch.randn(1, length, 8), torch.tensor([length]))
            continue
        with torch.no_grad():
            features, lengths = encoder(torch.randn(1, length, 8), torch.tensor([length]))
        assert expected == features.shape[1] == int(lengths[0]), (kernels, strides, length)


def test_zero_length_gives_zero_frames_in_a_batch():
    lengths = conv_output_lengths(torch.tensor([0, 5, 0]), [5, 3], [2, 1])
    assert lengths.tolist() == [0, 3, 0]


def test_mismatched_layer_lists_are_rejected():
    with pytest.raises(ValueError, match="one entry per layer"):
        ConvFeatureEncoder(8, [4, 4], [3], [1, 1], bias=True)
