import torch

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
    assert 2 <= perplexity <= 10


def test_training_draws_hard_samples_with_straight_through_gradients():
    quantizer = GumbelVectorQuantizer(input_dim=6, num_groups=2, num_codevectors_per_group=5, codevector_dim=8).train()
    features = torch.randn(2, 3, 6, requires_grad=True)
    quantized, _, _ = quantizer(features)
    rows = quantizer.codevectors.view(10, 4)
    for vector in quantized.view(-1, 2, 4).detach():  # every output is exactly one codevector per group
        assert any(torch.equal(vector[0], r) for r in rows[:5]) and any(torch.equal(vector[1], r) for r in rows[5:])
    quantized.sum().backward()
    assert features.grad.abs().sum() > 0
