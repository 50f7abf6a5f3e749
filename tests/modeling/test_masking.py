import torch

from hf_asr.modeling.masking import compute_span_mask, sample_negative_indices


def test_span_masks_never_touch_padding_over_10k_draws():
    generator = torch.Generator().manual_seed(0)
    lengths = torch.tensor([50, 3, 17, 1, 0, 49, 25, 10])
    positions = torch.arange(50)
    masked_per_utterance = torch.zeros(len(lengths))
    for _ in range(1250):  # 1250 × 8 = 10k utterance draws
        mask = compute_span_mask(lengths, 50, 0.3, 4, min_masks=1, generator=generator)
        assert not (mask & (positions[None] >= lengths[:, None])).any()
        masked_per_utterance += mask.sum(-1)
    assert (masked_per_utterance[lengths > 0] > 0).all()  # every non-empty utterance gets masks
    assert masked_per_utterance[lengths == 0].sum() == 0


def test_span_mask_covers_about_the_expected_fraction():
    generator = torch.Generator().manual_seed(1)
    lengths = torch.full((200,), 400)
    mask = compute_span_mask(lengths, 400, 0.65, 10, min_masks=2, generator=generator)
    fraction = mask.float().mean().item()
    # 26 spans of 10 in 400 frames, drawn without repeating a start, overlap: about half the frames are covered.
    assert 0.40 < fraction < 0.55
    low = compute_span_mask(lengths, 400, 0.05, 10, generator=generator).float().mean().item()
    assert 0.03 < low < 0.06


def test_span_masks_are_reproducible_with_a_seeded_generator():
    lengths = torch.tensor([30, 20])
    a = compute_span_mask(lengths, 30, 0.2, 3, generator=torch.Generator().manual_seed(7))
    b = compute_span_mask(lengths, 30, 0.2, 3, generator=torch.Generator().manual_seed(7))
    c = compute_span_mask(lengths, 30, 0.2, 3, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_negatives_are_never_the_positive_nor_padding_over_10k_draws():
    generator = torch.Generator().manual_seed(0)
    lengths = torch.tensor([40, 7, 2, 33])
    mask = torch.arange(40)[None] < lengths[:, None]  # every valid frame masked
    negatives = sample_negative_indices(mask, lengths, num_negatives=100, generator=generator)  # 14,600 draws
    positions = torch.arange(40)[None, :, None]
    valid = mask[..., None].expand_as(negatives)
    assert not (negatives == positions)[valid].any()
    assert (negatives < lengths[:, None, None])[valid].all()
    assert (negatives[~valid] == 0).all()
    # Uniform over the other frames: every other frame of the long utterance shows up.
    assert set(negatives[0].flatten().tolist()) == set(range(40))


def test_negatives_of_a_one_frame_utterance_point_at_itself():
    lengths = torch.tensor([1])
    mask = torch.tensor([[True, False]])
    negatives = sample_negative_indices(mask, lengths, num_negatives=5)
    assert (negatives[0, 0] == 0).all()
