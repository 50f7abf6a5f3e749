import pytest
import torch

from hf_asr import LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC, LogMelWav2Vec2ForPreTraining, LogMelWav2Vec2Model
from hf_asr.modeling.losses import codevector_perplexity

from .helpers import extract, features, random_waveforms, tiny_config


@pytest.fixture(
    params=[
        {"position_embedding": "conv"},
        {"position_embedding": "depthwise"},
        {"position_embedding": "rotary"},
        {"conv_module_kernel": 7},
        {"conv_stride": [2, 2], "ctc_upsampling": 2},
    ],
    ids=["conv", "depthwise", "rotary", "conformer", "upsampled-ctc"],
)
def ctc_model(request):
    return LogMelWav2Vec2ForCTC(tiny_config(**request.param)).eval()


def test_padded_batch_equals_one_by_one_for_encoder_and_ctc_logits(ctc_model):
    waves = random_waveforms([16000, 7000, 2500])
    batch = extract(waves)
    with torch.no_grad():
        out = ctc_model(**batch, output_hidden_states=True)
        for i, wave in enumerate(waves):
            single = extract([wave])
            one = ctc_model(**single, output_hidden_states=True)
            frames = one.logits.shape[1]
            assert int(out.logit_lengths[i]) == frames
            torch.testing.assert_close(out.logits[i, :frames], one.logits[0], atol=1e-4, rtol=0)
            hidden = one.hidden_states[-1].shape[1]  # frames / ctc_upsampling
            torch.testing.assert_close(out.hidden_states[-1][i, :hidden], one.hidden_states[-1][0], atol=1e-4, rtol=0)


def test_logit_count_covers_the_pipeline_ratio(ctc_model):
    config = ctc_model.config
    for samples in [3200, 16000, 16123, 48000]:
        with torch.no_grad():
            frames = ctc_model(**features([samples])).logits.shape[1]
        assert frames >= round(samples / config.inputs_to_logits_ratio)
        assert frames <= round(samples / config.inputs_to_logits_ratio) + 2


@pytest.mark.parametrize("position_embedding", ["conv", "rotary"])
def test_eager_and_sdpa_attention_agree(position_embedding):
    config = tiny_config(position_embedding=position_embedding)
    model = LogMelWav2Vec2Model(config).eval()
    batch = features([8000, 5000])
    with torch.no_grad():
        model.config._attn_implementation = "sdpa"
        sdpa = model(**batch).last_hidden_state
        model.config._attn_implementation = "eager"
        eager = model(**batch, output_attentions=True)
    torch.testing.assert_close(sdpa, eager.last_hidden_state, atol=1e-5, rtol=0)
    assert len(eager.attentions) == config.num_hidden_layers
    # Attention never reaches padded keys.
    valid = int(eager.frame_mask[1].sum())
    assert eager.attentions[0][1, :, :, valid:].abs().max() == 0


def test_audio_shorter_than_the_encoder_needs_is_named():
    model = LogMelWav2Vec2Model(tiny_config()).eval()
    feats = torch.zeros(2, 10, 80)
    mask = torch.ones(2, 10, dtype=torch.long)
    mask[1] = 0
    with pytest.raises(ValueError, match=r"Utterance\(s\) \[1\] have \[0\] log-mel frames"):
        model(feats, attention_mask=mask)


def test_wrong_number_of_mel_bins_is_named():
    model = LogMelWav2Vec2Model(tiny_config()).eval()
    with pytest.raises(ValueError, match="have 40 mel bins per frame, but the model expects 80"):
        model(torch.zeros(1, 50, 40))
    with pytest.raises(ValueError, match="add a batch dimension"):
        model(torch.zeros(50, 80))


@pytest.mark.parametrize("bad,reason", [(12, "outside the vocabulary"), (-3, "outside the vocabulary"), (0, "blank")])
def test_labels_outside_the_vocabulary_are_named(ctc_model, bad, reason):
    labels = torch.tensor([[1, 2, 3], [4, bad, -100]])
    with pytest.raises(ValueError, match=f"utterance 1 hold id {bad} at position 1, which .*{reason}"):
        ctc_model(**features([8000, 8000]), labels=labels)


@pytest.mark.parametrize(
    "labels,message",
    [
        (torch.tensor([[1, 2, 3]]), "labels hold 1 utterance.* but the features 2"),
        (torch.tensor([[1, 2], [3, 4], [5, 6]]), "labels hold 3 utterance.* but the features 2"),
        (torch.tensor([1, 2, 3]), r"labels must be \(batch, label positions\) ids, got shape \(3,\)"),
    ],
)
def test_labels_whose_batch_differs_from_the_features_are_named(ctc_model, labels, message):
    with pytest.raises(ValueError, match=message):
        ctc_model(**features([8000, 8000]), labels=labels)


def test_ctc_zero_infinity_keeps_impossible_labels_finite():
    labels = torch.tensor([[1] * 40])  # 40 repeats need 79 frames; 0.5 s gives 26
    inf_model = LogMelWav2Vec2ForCTC(tiny_config()).eval()
    assert torch.isinf(inf_model(**features([8000]), labels=labels).loss)
    finite = LogMelWav2Vec2ForCTC(tiny_config(ctc_zero_infinity=True)).eval()
    assert torch.isfinite(finite(**features([8000]), labels=labels).loss)


def test_ctc_gradients_reach_the_encoder_unless_frozen():
    model = LogMelWav2Vec2ForCTC(tiny_config())
    labels = torch.tensor([[1, 2, 3]])
    model(**features([8000]), labels=labels).loss.backward()
    conv_weight = model.wav2vec2.feature_encoder.layers[0].conv.weight
    assert conv_weight.grad is not None and conv_weight.grad.abs().sum() > 0
    model.zero_grad()
    model.freeze_feature_encoder()
    model(**features([8000]), labels=labels).loss.backward()
    assert conv_weight.grad is None or conv_weight.grad.abs().sum() == 0
    assert model.lm_head.weight.grad.abs().sum() > 0


def test_pretraining_output_and_masks_respect_padding():
    config = tiny_config(mask_time_prob=0.3)
    model = LogMelWav2Vec2ForPreTraining(config)
    batch = features([16000, 4000])
    out = model(**batch)
    assert torch.isfinite(out.loss)
    lengths = model.encoder_lengths(batch["attention_mask"].sum(-1))
    padding = torch.arange(out.mask_time_indices.shape[1])[None] >= lengths[:, None]
    assert not (out.mask_time_indices & padding).any()
    assert out.num_masked_frames == out.mask_time_indices.sum()
    with torch.no_grad():  # training mode: the perplexity of the softmax over the valid frames only
        base = model.wav2vec2(**batch)
        logits = model.quantizer.weight_proj(base.extract_features)
        probs = logits.view(-1, config.num_codevector_groups, config.num_codevectors_per_group).softmax(-1)
    expected = codevector_perplexity(probs, base.frame_mask.reshape(-1))
    torch.testing.assert_close(out.codevector_perplexity, expected)
    out.loss.backward()
    assert model.quantizer.codevectors.grad.abs().sum() > 0
    assert model.wav2vec2.masked_spec_embed.grad.abs().sum() > 0


def test_codevector_ids_are_the_quantizer_argmax_on_valid_frames():
    model = LogMelWav2Vec2ForPreTraining(tiny_config()).eval()
    waves = random_waveforms([16000, 4000])
    batch = extract(waves)
    codes = model.codevector_ids(**batch)
    with torch.no_grad():
        base = model.wav2vec2(**batch)
        logits = model.quantizer.weight_proj(base.extract_features)
    groups, per_group = model.config.num_codevector_groups, model.config.num_codevectors_per_group
    argmax = logits.view(*logits.shape[:2], groups, per_group).argmax(-1)
    assert codes.shape == (*base.frame_mask.shape, groups) and codes.dtype == torch.long
    assert torch.equal(codes[base.frame_mask], argmax[base.frame_mask])
    assert (codes[~base.frame_mask] == -1).all() and (~base.frame_mask).any()
    for i, wave in enumerate(waves):  # padding changes no valid frame's code
        one = model.codevector_ids(**extract([wave]))[0]
        assert torch.equal(codes[i, : len(one)], one)


def test_codebook_usage_counts_every_valid_frame_once():
    from hf_asr import LogMelFeatureExtractor
    from hf_asr.demo.plots import codebook_usage

    model = LogMelWav2Vec2ForPreTraining(tiny_config())
    waves = random_waveforms([16000, 7000, 2500])
    counts = codebook_usage(model, LogMelFeatureExtractor(), waves)
    frames = sum(int(model.encoder_lengths(extract([w])["attention_mask"].sum(-1))[0]) for w in waves)
    config = model.config
    assert counts.shape == (config.num_codevector_groups, config.num_codevectors_per_group)
    assert counts.sum(-1).tolist() == [frames] * config.num_codevector_groups
    codes = torch.cat([model.codevector_ids(**extract([w]))[0] for w in waves])
    for group, row in enumerate(counts):
        assert row.tolist() == torch.bincount(codes[:, group], minlength=len(row)).tolist()


def test_gumbel_temperature_schedule():
    model = LogMelWav2Vec2ForPreTraining(tiny_config(gumbel_temperature_decay=0.5))
    assert model.quantizer.temperature == 2.0
    assert model.gumbel_temperature_at(1) == 1.0
    assert model.gumbel_temperature_at(10) == 0.5
    model.set_gumbel_temperature(0.7)
    assert model.quantizer.temperature == 0.7


def test_config_validation_names_the_fields():
    with pytest.raises(Exception, match="num_attention_heads"):
        LogMelWav2Vec2Config(hidden_size=100, num_attention_heads=12)
    with pytest.raises(Exception, match="conv_kernel"):
        LogMelWav2Vec2Config(conv_dim=[8, 8], conv_kernel=[3], conv_stride=[1, 1])


def test_base_preset_has_wav2vec2_base_size():
    model = LogMelWav2Vec2ForCTC(LogMelWav2Vec2Config.base(vocab_size=32))
    parameters = sum(p.numel() for p in model.parameters())
    assert 85e6 < parameters < 100e6
    assert LogMelWav2Vec2Config.base().inputs_to_logits_ratio == 320
