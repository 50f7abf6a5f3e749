import math

import torch

from hf_asr.modeling.losses import codevector_perplexity
from hf_asr.modeling.quantizer import GumbelVectorQuantizer


def test_eval_picks_the_argmax_codevector_of_each_group():
    torch.manual_seed(0)
    quantizer = GumbelVectorQuantizer(input_dim=6, num_groups=2, num_codevectors_per_group=5, codevector_dim=8).eval()
    torch.nn.init.normal_(quantizer.codevectors)
    features = torch.randn(3, 4, 6)
    quantized, perplexity, code_ids = quantizer(features)
    logits = quantizer.weight_proj(features).view(3, 4, 2, 5)
    codes = logits.argmax(-1)  # (B, T, G)
    book = quantizer.codevectors.view(2, 5, 4)
    expected = torch.cat([book[0][codes[..., 0]], book[1][codes[..., 1]]], dim=-1)
    torch.testing.assert_close(quantized, expected)
    assert torch.equal(code_ids, codes[..., 0] + 5 * codes[..., 1])
    one_hot = torch.nn.functional.one_hot(codes, 5).float().view(12, 2, 5)
    assert math.isclose(perplexity.item(), codevector_perplexity(one_hot).item(), rel_tol=1e-6)
    assert torch.equal(quantizer.codes(features), codes)


def test_codes_are_the_choices_forward_quantizes_with():
    torch.manual_seed(0)
    quantizer = GumbelVectorQuantizer(input_dim=6, num_groups=2, num_codevectors_per_group=5, codevector_dim=8)
    features = torch.randn(3, 4, 6)
    frame_mask = torch.arange(4)[None] < torch.tensor([4, 2, 1])[:, None]
    for training in (False, True):  # in training both draw the same Gumbel sample from the same seed
        quantizer.train(training)
        torch.manual_seed(1)
        codes = quantizer.codes(features)
        torch.manual_seed(1)
        _, _, code_ids = quantizer(features, frame_mask)
        assert codes.shape == (3, 4, 2) and codes.dtype == torch.long
        assert torch.equal(code_ids, codes[..., 0] + 5 * codes[..., 1])
    quantizer.eval()
    masked = quantizer.codes(features, frame_mask)
    assert (masked[~frame_mask] == -1).all()
    assert torch.equal(masked[frame_mask], quantizer.weight_proj(features).view(3, 4, 2, 5).argmax(-1)[frame_mask])


def test_training_draws_hard_samples_with_straight_through_gradients():
    quantizer = GumbelVectorQuantizer(input_dim=6, num_groups=2, num_codevectors_per_group=5, codevector_dim=8).train()
    torch.manual_seed(0)
    features = torch.randn(2, 3, 6, requires_grad=True)
    quantized, _, _ = quantizer(features)
    rows = quantizer.codevectors.view(10, 4).detach()

    def is_a_row(vector: torch.Tensor, group_rows: torch.Tensor) -> bool:
        # the straight-through one-hot is y_hard - y_soft.detach() + y_soft: 1 and 0 up to float rounding
        return any(torch.allclose(vector, r, rtol=0, atol=1e-6) for r in group_rows)

    for vector in quantized.view(-1, 2, 4).detach():  # every output is one codevector per group, not a mixture
        assert is_a_row(vector[0], rows[:5]) and is_a_row(vector[1], rows[5:])
    quantized.sum().backward()
    assert features.grad.abs().sum() > 0
