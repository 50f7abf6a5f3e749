"""Collators: padding, label padding, and span masks / negatives that never touch padding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hf_asr import LogMelWav2Vec2Config, LogMelWav2Vec2ForPreTraining
from hf_asr.modeling.feature_encoder import conv_output_lengths
from hf_asr.training.collators import DataCollatorCTC, DataCollatorPretraining


def _examples(lengths, n_mels=80, seed=0):
    rng = np.random.default_rng(seed)
    return [{"input_features": rng.standard_normal((n, n_mels)).astype(np.float32)} for n in lengths]


def test_ctc_collator_pads_features_and_labels(processor):
    examples = _examples([7, 12, 3])
    for example, labels in zip(examples, ([3, 4, 5], [6], [])):
        example["labels"] = labels
    batch = DataCollatorCTC(processor)(examples)
    assert batch["input_features"].shape == (3, 12, 80)
    assert batch["attention_mask"].sum(-1).tolist() == [7, 12, 3]
    assert batch["labels"].tolist() == [[3, 4, 5], [6, -100, -100], [-100, -100, -100]]
    np.testing.assert_allclose(batch["input_features"][0, :7].numpy(), examples[0]["input_features"])


def test_ctc_collator_without_labels(processor):
    batch = DataCollatorCTC(processor)(_examples([4, 5]))
    assert "labels" not in batch and batch["input_features"].shape == (2, 5, 80)


@pytest.mark.parametrize("span", [1, 4, 10])
def test_pretraining_masks_and_negatives_never_in_padding(span):
    config = LogMelWav2Vec2Config.tiny()
    encoder_lengths = LogMelWav2Vec2ForPreTraining(config).encoder_lengths
    rng = np.random.default_rng(1)
    for seed in range(60):
        mel_lengths = rng.integers(1, 90, size=int(rng.integers(1, 6)))
        collator = DataCollatorPretraining(
            encoder_lengths, mask_prob=0.3, span_length=span, min_masks=2, num_negatives=7, seed=seed
        )
        batch = collator(_examples(mel_lengths, seed=seed))
        mask, negatives = batch["mask_time_indices"], batch["sampled_negative_indices"]
        lengths = conv_output_lengths(torch.as_tensor(mel_lengths), config.conv_kernel, config.conv_stride)
        time = int(conv_output_lengths(torch.tensor([mel_lengths.max()]), config.conv_kernel, config.conv_stride)[0])
        assert mask.shape == (len(mel_lengths), time) and negatives.shape == (len(mel_lengths), time, 7)
        for row, length in enumerate(lengths.tolist()):
            assert not mask[row, length:].any(), "a mask in padding"
            assert mask[row, :length].any(), "min_masks must give every utterance a masked frame"
            frames = mask[row].nonzero().flatten()
            chosen = negatives[row, frames]  # (n, K)
            assert (chosen < length).all() and (chosen >= 0).all(), "a negative in padding"
            if length > 1:
                assert (chosen != frames[:, None]).all(), "a negative equal to its own frame"
            assert (negatives[row][~mask[row]] == 0).all()


def test_pretraining_collator_is_reproducible_and_resumable():
    model = LogMelWav2Vec2ForPreTraining(LogMelWav2Vec2Config.tiny())
    batches = [_examples([40, 55, 23], seed=i) for i in range(4)]

    def draw(collator, items):
        return [collator(b) for b in items]

    first = draw(DataCollatorPretraining.from_model(model, seed=3), batches)
    second = draw(DataCollatorPretraining.from_model(model, seed=3), batches)
    for a, b in zip(first, second):
        assert torch.equal(a["mask_time_indices"], b["mask_time_indices"])
        assert torch.equal(a["sampled_negative_indices"], b["sampled_negative_indices"])

    # Resume after two batches from the saved state: the next draws are those of the unbroken run.
    interrupted = DataCollatorPretraining.from_model(model, seed=3)
    draw(interrupted, batches[:2])
    state = interrupted.state_dict()
    resumed = DataCollatorPretraining.from_model(model, seed=99)
    resumed.load_state_dict(state)
    assert resumed.num_calls == 2
    for a, b in zip(first[2:], draw(resumed, batches[2:])):
        assert torch.equal(a["mask_time_indices"], b["mask_time_indices"])
        assert torch.equal(a["sampled_negative_indices"], b["sampled_negative_indices"])

    other_seed = DataCollatorPretraining.from_model(model, seed=4)(batches[0])
    other_rank = DataCollatorPretraining.from_model(model, seed=3)
    other_rank.set_process_index(1)
    other_rank = other_rank(batches[0])
    assert not torch.equal(other_seed["mask_time_indices"], first[0]["mask_time_indices"])
    assert not torch.equal(other_rank["mask_time_indices"], first[0]["mask_time_indices"])


def test_pretraining_collator_with_the_models_lengths():
    model = LogMelWav2Vec2ForPreTraining(LogMelWav2Vec2Config.tiny())
    batch = DataCollatorPretraining(model.encoder_lengths, num_negatives=5)(_examples([30, 64]))
    out = model(**batch)
    assert torch.isfinite(out.loss) and int(out.num_masked_frames) == int(batch["mask_time_indices"].sum())
    with pytest.raises(TypeError):
        DataCollatorPretraining(object())


def test_pretraining_collator_state_before_a_drawn_ahead_batch():
    """A loader that drew batch 3 ahead of the step: the state saved for 2 consumed batches replays batch 3."""
    model = LogMelWav2Vec2ForPreTraining(LogMelWav2Vec2Config.tiny())
    batches = [_examples([40, 23], seed=i) for i in range(3)]
    collator = DataCollatorPretraining.from_model(model, seed=0)
    drawn = [collator(b) for b in batches]
    replay = DataCollatorPretraining.from_model(model, seed=0)
    replay.load_state_dict(collator.state_dict(num_consumed=2))
    assert replay.num_calls == 2
    assert torch.equal(replay(batches[2])["mask_time_indices"], drawn[2]["mask_time_indices"])
    with pytest.raises(ValueError, match="no collator state"):
        collator.state_dict(num_consumed=-5)
    fresh = collator.eval_copy()
    assert fresh.num_calls == 0 and torch.equal(fresh(batches[0])["mask_time_indices"], drawn[0]["mask_time_indices"])
