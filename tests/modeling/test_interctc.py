"""Intermediate CTC: the fine-tuning loss mixes in a CTC loss on a lower layer's output, through the same head."""

import pytest
import torch

from hf_asr import LogMelWav2Vec2ForCTC

from .helpers import features, tiny_config

LABELS = torch.tensor([[3, 4, 5, 6, -100, -100], [7, 8, 7, 9, 10, 11]])


def _model(**overrides) -> LogMelWav2Vec2ForCTC:
    torch.manual_seed(0)
    model = LogMelWav2Vec2ForCTC(tiny_config(num_hidden_layers=2, apply_spec_augment=False, **overrides))
    return model.train()


def _ctc(model, hidden, lengths):
    log_probs = model.lm_head(hidden).log_softmax(-1).transpose(0, 1)  # (T, B, V)
    label_lengths = (LABELS >= 0).sum(-1)
    per_utterance = torch.nn.functional.ctc_loss(
        log_probs, LABELS.clamp(min=0), lengths, label_lengths, blank=0, reduction="none"
    )
    return (per_utterance / label_lengths).mean()


def test_loss_mixes_the_last_and_the_intermediate_layer_ctc():
    batch = features([16000, 12000])
    model = _model(interctc_layer=1, interctc_weight=0.25)
    out = model(**batch, labels=LABELS)
    assert out.hidden_states is None  # used inside, not returned unless asked
    with torch.no_grad():
        states = model(**batch, output_hidden_states=True).hidden_states
        lower = model.wav2vec2.encoder.layer_norm(states[1])  # after the first layer, through the final LayerNorm
        expected = 0.75 * _ctc(model, states[-1], out.logit_lengths) + 0.25 * _ctc(model, lower, out.logit_lengths)
    torch.testing.assert_close(out.loss.detach(), expected, rtol=1e-4, atol=1e-4)
    plain = _model()(**batch, labels=LABELS)  # same weights (seeded), no intermediate loss
    torch.testing.assert_close(plain.loss.detach(), _ctc(model, states[-1], out.logit_lengths), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(out.logits, plain.logits)  # the logits are the last layer's either way
    with torch.no_grad():
        evaluation = model.eval()(**batch, labels=LABELS)  # evaluation losses are the last layer's alone
    torch.testing.assert_close(evaluation.loss, plain.loss.detach(), rtol=1e-4, atol=1e-4)


def test_weight_one_trains_only_the_layers_below_the_intermediate_one():
    model = _model(interctc_layer=1, interctc_weight=1.0)
    model(**features([16000, 12000]), labels=LABELS).loss.backward()
    layers = model.wav2vec2.encoder.layers
    assert layers[0].feed_forward.fc2.weight.grad.abs().sum() > 0
    assert all(p.grad is None or not p.grad.any() for p in layers[1].parameters())


def test_interctc_layer_must_lie_below_the_last_layer():
    with pytest.raises(ValueError, match="interctc_layer=2 must lie below num_hidden_layers=2"):
        tiny_config(num_hidden_layers=2, interctc_layer=2)
    with pytest.raises((ValueError, TypeError), match="interctc_weight"):
        tiny_config(num_hidden_layers=2, interctc_layer=1, interctc_weight=1.5)
