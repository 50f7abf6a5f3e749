"""ctc_upsampling: a Transformer at a coarser frame rate, CTC logits at r times it; lengths follow everywhere."""

import pytest
import torch

from hf_asr import LogMelWav2Vec2ForCTC

from .helpers import features, tiny_config


def upsampled_model(**overrides) -> LogMelWav2Vec2ForCTC:
    return LogMelWav2Vec2ForCTC(tiny_config(conv_stride=[2, 2], ctc_upsampling=2, **overrides)).eval()


def test_each_encoder_frame_gives_r_logit_frames_in_order():
    model = upsampled_model()
    batch = features([16000, 6000])
    with torch.no_grad():
        out = model(**batch, output_hidden_states=True)
        hidden = out.hidden_states[-1]  # (B, T, C), the final LayerNorm's output
        frames = hidden.shape[1]
        per_frame = model.lm_head(hidden).view(2, frames, 2, -1)  # (B, T, r, V)
    assert out.logits.shape[1] == 2 * frames
    torch.testing.assert_close(out.logits[:, 0::2], per_frame[:, :, 0])
    torch.testing.assert_close(out.logits[:, 1::2], per_frame[:, :, 1])
    encoder = model.encoder_lengths(batch["attention_mask"].sum(-1))
    assert out.logit_lengths.tolist() == (2 * encoder).tolist()
    assert model.logit_lengths(batch["attention_mask"].sum(-1)).tolist() == out.logit_lengths.tolist()


def test_labels_longer_than_the_encoder_frames_train_within_the_logit_frames():
    model = upsampled_model()
    batch = features([3200])  # 0.2 s: 21 mel frames, 5 encoder frames at 40 ms, 10 logit frames
    encoder_frames = int(model.encoder_lengths(batch["attention_mask"].sum(-1))[0])
    labels = torch.arange(1, encoder_frames + 4)[None] % 11 + 1  # more labels than encoder frames, no repeats
    assert labels.shape[1] > encoder_frames and labels.shape[1] <= 2 * encoder_frames
    out = upsampled_model().train()(**batch, labels=labels)
    assert torch.isfinite(out.loss) and bool(out.feasible.all())
    out.loss.backward()


def test_pipeline_ratio_counts_audio_samples_per_logit_frame():
    assert tiny_config(conv_stride=[2, 2], ctc_upsampling=2).inputs_to_logits_ratio == 320  # 160-sample hop x 4 / 2
    assert tiny_config(conv_stride=[2, 2]).inputs_to_logits_ratio == 640


def test_an_upsampling_that_does_not_divide_the_frame_is_named():
    with pytest.raises(ValueError, match="ctc_upsampling=3 must divide"):
        tiny_config(conv_stride=[2, 2], ctc_upsampling=3)
    with pytest.raises((ValueError, TypeError), match="ctc_upsampling"):
        tiny_config(ctc_upsampling=0)
