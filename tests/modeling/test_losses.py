import math

import pytest
import torch
import torch.nn.functional as F

from hf_asr.modeling.losses import (
    codevector_perplexity,
    contrastive_loss,
    ctc_loss,
    ctc_utterance_losses,
    diversity_loss,
)


def test_perplexity_of_a_hand_computed_case():
    # Group 0: frames use codes 0 and 1 equally -> marginal (0.5, 0.5, 0, 0) -> exp(ln 2) = 2.
    # Group 1: every frame uses code 3 -> marginal one-hot -> 1.
    probs = torch.zeros(4, 2, 4)
    probs[[0, 1], 0, 0] = 1
    probs[[2, 3], 0, 1] = 1
    probs[:, 1, 3] = 1
    assert math.isclose(codevector_perplexity(probs).item(), 3.0, rel_tol=1e-5)
    # Masking out frames 2 and 3 leaves group 0 one-hot too.
    mask = torch.tensor([True, True, False, False])
    assert math.isclose(codevector_perplexity(probs, mask).item(), 2.0, rel_tol=1e-5)


def test_perplexity_bounds_and_diversity_loss():
    uniform = torch.full((10, 2, 8), 1 / 8)
    assert math.isclose(codevector_perplexity(uniform).item(), 16.0, rel_tol=1e-5)
    assert math.isclose(diversity_loss(torch.tensor(16.0), 16).item(), 0.0, abs_tol=1e-6)
    assert math.isclose(diversity_loss(torch.tensor(2.0), 16).item(), 14 / 16, rel_tol=1e-6)


def test_contrastive_loss_matches_the_closed_form():
    # One utterance, 3 frames, frame 0 masked; its negatives are frames 1 and 2.
    context = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    targets = torch.tensor([[[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]]])
    negatives = torch.tensor([[[1, 2], [0, 0], [0, 0]]])
    mask = torch.tensor([[True, False, False]])
    kappa = 0.5
    loss, correct = contrastive_loss(context, targets, negatives, mask, kappa)
    # cos(c0, t0) = 1, cos(c0, t1) = 0, cos(c0, t2) = -1.
    logits = torch.tensor([1.0, 0.0, -1.0]) / kappa
    expected = -torch.log_softmax(logits, 0)[0]
    assert math.isclose(loss.item(), expected.item(), rel_tol=1e-6)
    assert correct.item() == 1


def test_contrastive_loss_ignores_negatives_identical_to_the_positive():
    context = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    targets = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])
    negatives = torch.tensor([[[1], [0]]])
    mask = torch.tensor([[True, False]])
    same = contrastive_loss(context, targets, negatives, mask, 0.1, target_ids=torch.tensor([[4, 4]]))[0]
    assert same.item() == 0.0  # the only negative is the same codevector: nothing to contrast against
    kept = contrastive_loss(context, targets, negatives, mask, 0.1)[0]
    assert math.isclose(kept.item(), math.log(2), rel_tol=1e-5)


def test_ctc_loss_agrees_with_torch_and_zero_infinity():
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 5)
    labels = torch.tensor([[1, 2, 3], [4, -100, -100]])
    ours = ctc_loss(logits, torch.tensor([6, 4]), labels, blank_id=0)
    reference = F.ctc_loss(
        logits.log_softmax(-1).transpose(0, 1), torch.tensor([1, 2, 3, 4]), torch.tensor([6, 4]), torch.tensor([3, 1])
    )
    assert math.isclose(ours.item(), reference.item(), rel_tol=1e-6)
    too_long = torch.tensor([[1, 1, 1, 1]])  # 4 repeats need 7 frames, only 3 given
    assert torch.isinf(ctc_loss(logits[:1, :3], torch.tensor([3]), too_long, blank_id=0))
    assert torch.isfinite(ctc_loss(logits[:1, :3], torch.tensor([3]), too_long, blank_id=0, zero_infinity=True))


@pytest.mark.parametrize("loss", [ctc_loss, ctc_utterance_losses])
def test_ctc_losses_name_batch_sizes_that_disagree(loss):
    logits, lengths = torch.zeros(2, 6, 5), torch.tensor([6, 4])
    with pytest.raises(ValueError, match=r"labels hold 3 utterance\(s\) but the features 2"):
        loss(logits, lengths, torch.ones(3, 2, dtype=torch.long), 0)
    with pytest.raises(ValueError, match=r"logit_lengths must be \(2,\), one per utterance, got shape \(3,\)"):
        loss(logits, torch.tensor([6, 4, 4]), torch.ones(2, 2, dtype=torch.long), 0)
