"""Collators over raw audio: augmentation in training batches only, seeded, and resumable."""

import torch

from hf_asr.data.augmentation import AugmentationSettings
from hf_asr.data.features import prepare_dataset
from hf_asr.training.collators import DataCollatorCTC, DataCollatorPretraining, featurize

from .synthetic import tone_corpus


def _rows(processor, count=4):
    raw = prepare_dataset(
        tone_corpus(copies=1, seed=3), processor.feature_extractor, processor.tokenizer, precompute_features=False
    )
    assert set(raw.column_names) == {"audio", "duration", "labels"}
    return [raw[i] for i in range(count)]


def test_raw_audio_features_equal_precomputed_ones(processor):
    raw = _rows(processor)
    precomputed = prepare_dataset(tone_corpus(copies=1, seed=3), processor.feature_extractor, processor.tokenizer)
    from_audio = DataCollatorCTC(processor)(raw)
    from_features = DataCollatorCTC(processor)([precomputed[i] for i in range(4)])
    assert torch.equal(from_audio["attention_mask"], from_features["attention_mask"])
    assert torch.allclose(from_audio["input_features"], from_features["input_features"], atol=1e-5)
    assert torch.equal(from_audio["labels"], from_features["labels"])


def test_augmentation_only_in_training_batches_and_seeded(processor):
    rows = _rows(processor)
    plain = featurize(rows, processor.feature_extractor)
    training = DataCollatorCTC(processor, augmentation=AugmentationSettings(), seed=1)
    augmented = training(rows)
    assert not torch.equal(augmented["attention_mask"], plain["attention_mask"]) or not torch.allclose(
        augmented["input_features"], plain["input_features"]
    )
    evaluation = training.eval_copy()
    assert evaluation.augmenter is None
    for _ in range(2):  # evaluation batches never change, whatever training drew before
        batch = evaluation(rows)
        assert torch.equal(batch["input_features"], plain["input_features"])
    same_seed = DataCollatorCTC(processor, augmentation=AugmentationSettings(), seed=1)(rows)
    assert torch.equal(same_seed["input_features"], augmented["input_features"])
    other_seed = DataCollatorCTC(processor, augmentation=AugmentationSettings(), seed=2)(rows)
    assert not torch.equal(other_seed["input_features"], augmented["input_features"]) or not torch.equal(
        other_seed["attention_mask"], augmented["attention_mask"]
    )


def test_augmented_stream_resumes_from_its_state(processor):
    rows = _rows(processor)
    settings = AugmentationSettings(noise_prob=1.0)
    unbroken = DataCollatorCTC(processor, augmentation=settings, seed=5)
    batches = [unbroken(rows) for _ in range(3)]
    interrupted = DataCollatorCTC(processor, augmentation=settings, seed=5)
    interrupted(rows)
    resumed = DataCollatorCTC(processor, augmentation=settings, seed=99)
    resumed.load_state_dict(interrupted.state_dict())
    assert torch.equal(resumed(rows)["input_features"], batches[1]["input_features"])


def test_pretraining_collator_featurizes_raw_audio(processor):
    from hf_asr import LogMelWav2Vec2Config, LogMelWav2Vec2ForPreTraining

    model = LogMelWav2Vec2ForPreTraining(LogMelWav2Vec2Config.tiny())
    rows = [{"audio": r["audio"]} for r in _rows(processor)]
    collator = DataCollatorPretraining.from_model(
        model, feature_extractor=processor.feature_extractor, augmentation=AugmentationSettings()
    )
    batch = collator(rows)
    lengths = model.encoder_lengths(batch["attention_mask"].sum(-1))
    assert batch["mask_time_indices"].shape == (4, int(lengths.max()))
    assert torch.isfinite(model(**batch).loss)


def test_feature_augmentation_of_prepared_features_in_training_batches_only(processor):
    prepared = prepare_dataset(tone_corpus(copies=1, seed=3), processor.feature_extractor, processor.tokenizer)
    rows = [prepared[i] for i in range(4)]
    settings = AugmentationSettings.waveform_only_off(time_stretch=(0.8, 1.2), mel_warp=(0.9, 1.1))
    training = DataCollatorCTC(processor, augmentation=settings, seed=1)
    assert training.augmenter is None  # no waveform step: nothing needs the audio
    plain = DataCollatorCTC(processor)(rows)
    augmented = training(rows)
    assert not torch.equal(augmented["attention_mask"].sum(-1), plain["attention_mask"].sum(-1))
    assert torch.equal(augmented["labels"], plain["labels"])
    lengths = augmented["attention_mask"].sum(-1)
    padding = processor.feature_extractor.padding_value
    for row, length in zip(augmented["input_features"], lengths, strict=True):
        assert torch.all(row[length:] == padding)  # padding stays padding after the stretch
    assert torch.equal(training.eval_copy()(rows)["input_features"], plain["input_features"])
    same_seed = DataCollatorCTC(processor, augmentation=settings, seed=1)(rows)
    assert torch.equal(same_seed["input_features"], augmented["input_features"])
