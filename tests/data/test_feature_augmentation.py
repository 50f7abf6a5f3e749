"""Feature-space augmentation: time stretch and mel warp on log-mel frames, seeded, training batches only."""

import pytest
import torch

from hf_asr.data.augmentation import AugmentationSettings, needs_raw_audio
from hf_asr.data.feature_augmentation import augment_batch_features, stretch_time, warp_mel_axis


def _peaks(bins=(20, 70), frames=30, n_mels=80):
    features = torch.zeros(frames, n_mels)
    features[:, list(bins)] = 1.0
    return features


@pytest.mark.parametrize("factor, expected", [(0.9, [18, 66]), (1.1, [22, 72])])
def test_mel_warp_moves_formants_by_the_factor_and_keeps_the_axis(factor, expected):
    warped = warp_mel_axis(_peaks(), factor)
    assert warped.shape == (30, 80)
    assert sorted(warped[0].topk(2).indices.tolist()) == expected
    ramp = torch.arange(80.0)[None].repeat(3, 1)
    assert warp_mel_axis(ramp, factor)[0, -1] == 79.0  # the top bin stays the top
    assert torch.equal(warp_mel_axis(_peaks(), 1.0), _peaks())


def test_time_stretch_changes_the_frame_count_and_keeps_the_ends():
    features = torch.randn(100, 80)
    assert stretch_time(features, 1.1).shape == (91, 80)
    assert stretch_time(features, 0.9).shape == (111, 80)
    slower = stretch_time(features, 0.5)
    assert torch.allclose(slower[0], features[0]) and torch.allclose(slower[-1], features[-1])
    assert torch.equal(stretch_time(features, 1.0), features)


def test_batch_augmentation_is_seeded_with_one_stretch_per_batch():
    rows = [torch.randn(60, 80), torch.randn(58, 80)]

    def draw(seed):
        return augment_batch_features(rows, (0.8, 1.2), (0.9, 1.1), torch.Generator().manual_seed(seed))

    first = draw(1)
    assert all(torch.equal(a, b) for a, b in zip(first, draw(1), strict=True))
    assert (len(first[0]), len(first[1])) != (60, 58)
    assert abs(len(first[0]) / 60 - len(first[1]) / 58) < 0.02  # one stretch factor for both rows
    other = draw(2)
    assert any(a.shape != b.shape or not torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_feature_steps_alone_keep_prepared_features():
    assert not needs_raw_audio(AugmentationSettings.waveform_only_off(mel_warp=(0.9, 1.1)))
    assert needs_raw_audio(AugmentationSettings())
    assert not needs_raw_audio(None)
    assert not AugmentationSettings().changes_features
    with pytest.raises(ValueError, match="mel_warp"):
        AugmentationSettings(mel_warp=(1.1, 0.9))
    with pytest.raises(ValueError, match="time_stretch factors must be positive"):
        AugmentationSettings(time_stretch=(0.0, 1.0))
