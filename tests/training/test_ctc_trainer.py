"""CTCTrainer: exact loss scaling under gradient accumulation, over-long labels, fine-tuning that learns."""

from __future__ import annotations

import copy
import logging

import numpy as np
import pytest
import torch

from hf_asr import LogMelWav2Vec2ForCTC, LogMelWav2Vec2Processor
from hf_asr.data.batching import DurationBatchSampler
from hf_asr.data.features import prepare_dataset
from hf_asr.training import CTCTrainer, DataCollatorCTC, ctc_required_frames, finetune, make_training_args
from hf_asr.training.metrics import ctc_argmax_logits, greedy_transcripts

from .runs import quiet_tiny_config
from .synthetic import SENTENCES, tone_corpus


def _model(processor, **overrides):
    config = quiet_tiny_config(
        vocab_size=len(processor.tokenizer), pad_token_id=processor.tokenizer.pad_token_id, **overrides
    )
    torch.manual_seed(0)
    return LogMelWav2Vec2ForCTC(config)


def _trainer(model, processor, dataset, tmp_path, **args):
    settings = dict(
        max_steps=1,
        per_device_batch_size=4,
        learning_rate=1.0,
        warmup_steps=0,
        logging_steps=1,
        device="cpu",
        optim="sgd",
        lr_scheduler_type="constant",
        max_grad_norm=0.0,
        weight_decay=0.0,
        train_sampling_strategy="sequential",
        disable_tqdm=True,
    )
    settings.update(args)
    training_args = make_training_args(str(tmp_path), **settings)
    return CTCTrainer(
        model=model,
        args=training_args,
        data_collator=DataCollatorCTC(processor),
        train_dataset=dataset,
        processing_class=processor,
    )


def test_required_frames_counts_repeats():
    labels = torch.tensor([[5, 5, 6, -100], [7, 8, 7, 7], [-100, -100, -100, -100]])
    assert ctc_required_frames(labels).tolist() == [4, 5, 0]


@pytest.mark.parametrize("micro_batch,accepts_loss_kwargs", [(2, False), (3, True)])
def test_gradient_accumulation_matches_the_doubled_batch(
    processor, prepared, tmp_path, micro_batch, accepts_loss_kwargs
):
    """GA=2 over 4 utterances == one batch of 4: same logged loss, same update (SGD, lr 1, no clipping), to 1e-5.

    Micro-batches 2+2, and 3+1 (where a per-batch mean divided by the accumulation steps would be wrong), with
    lengths that differ (different padding per micro-batch). With `accepts_loss_kwargs=True` (what transformers
    assumes for a forward taking **kwargs) the plain Trainer logs 2x the loss and takes a 2x step under GA=2
    (measured: 18.23 vs 9.12); CTCTrainer does its own scaling and does not depend on that flag.
    """
    dataset = prepared.select([0, 2, 5, 7])
    start = _model(processor)
    results = []
    for batch, accumulation in ((4, 1), (micro_batch, 2)):
        model = copy.deepcopy(start)
        model.accepts_loss_kwargs = accepts_loss_kwargs
        trainer = _trainer(
            model,
            processor,
            dataset,
            tmp_path / f"b{batch}",
            per_device_batch_size=batch,
            gradient_accumulation_steps=accumulation,
        )
        trainer.train()
        loss = [h["loss"] for h in trainer.state.log_history if "loss" in h][0]
        results.append((loss, {k: v.detach().clone() for k, v in model.named_parameters()}))
    (loss_full, params_full), (loss_ga, params_ga) = results
    assert loss_ga == pytest.approx(loss_full, rel=1e-5)
    moved = 0.0
    for name, value in params_full.items():
        torch.testing.assert_close(params_ga[name], value, rtol=0, atol=1e-5, msg=name)
        moved = max(moved, float((value - start.state_dict()[name]).abs().max()))
    assert moved > 1e-3, "the step must actually change the parameters"

    # The reference: one big batch's mean utterance loss (per label length, config reduction "mean").
    batch = DataCollatorCTC(processor)([dataset[i] for i in range(4)])
    with torch.no_grad():
        expected = start(**batch).loss
    assert loss_full == pytest.approx(float(expected), rel=1e-5)


def test_over_long_labels_are_skipped_and_counted(processor, prepared, tmp_path, caplog):
    too_long = prepared.select([0, 1]).map(lambda ex: {"labels": [3, 4] * 200})  # 400 labels, ~60 frames
    dataset = prepared.select([2, 3, 4, 5]).to_list() + too_long.to_list()
    model = _model(processor)
    trainer = _trainer(
        model,
        processor,
        dataset,
        tmp_path,
        max_steps=2,
        per_device_batch_size=3,
        learning_rate=1e-3,
        optim="adamw_torch",
    )
    with caplog.at_level(logging.WARNING):
        trainer.train()
    logs = [h for h in trainer.state.log_history if "loss" in h]
    assert all(np.isfinite(h["loss"]) and np.isfinite(h["grad_norm"]) for h in logs)
    assert trainer.num_skipped_utterances == 2
    assert logs[-1]["skipped_utterances"] == 2
    assert "skipped" in caplog.text
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_invalid_label_ids_are_rejected(processor, prepared, tmp_path):
    bad = prepared.select([0]).map(lambda ex: {"labels": [1000]})
    trainer = _trainer(_model(processor), processor, bad, tmp_path, per_device_batch_size=1)
    with pytest.raises(ValueError, match="id 1000"):
        trainer.train()


def test_finetune_learns_the_tone_corpus(processor, raw_corpus, tmp_path):
    """A tiny model overfits 8 short sentences: CTC loss falls > 10×, greedy WER on the training sentences
    (fresh renditions, unseen noise and phases) ≤ 0.25, eval WER is reported, folders hold model + processor."""
    from datasets import DatasetDict

    corpus = DatasetDict({"train": raw_corpus, "validation": tone_corpus(copies=1, seed=7)})
    out = tmp_path / "ctc"
    model, history = finetune(
        corpus,
        processor,
        None,
        str(out),
        max_steps=150,
        config=quiet_tiny_config(),
        freeze_feature_encoder=False,
        per_device_batch_size=8,
        learning_rate=3e-3,
        logging_steps=10,
        eval_steps=150,
        save_steps=75,
        device="cpu",
        disable_tqdm=True,
    )
    losses = [h["loss"] for h in history if "loss" in h]
    assert losses[-1] < losses[0] / 10, losses
    evals = [h for h in history if "eval_wer" in h]
    assert evals and evals[-1]["eval_wer"] <= 0.25 and "eval_cer" in evals[-1]

    fresh = prepare_dataset(tone_corpus(copies=1, seed=5), processor.feature_extractor, processor.tokenizer)
    batch = DataCollatorCTC(processor)(fresh.to_list())
    model.eval()
    with torch.no_grad():
        outputs = model(input_features=batch["input_features"], attention_mask=batch["attention_mask"])
    predictions = greedy_transcripts(processor, ctc_argmax_logits((outputs.logits, outputs.logit_lengths)).numpy())
    import jiwer

    assert jiwer.wer(list(SENTENCES), predictions) <= 0.25, predictions

    for folder in (out / "model", out / "checkpoint-75"):
        names = {p.name for p in folder.iterdir()}
        assert {"config.json", "model.safetensors", "vocab.json"} <= names, names
        reloaded_processor = LogMelWav2Vec2Processor.from_pretrained(str(folder))
        assert reloaded_processor.tokenizer.get_vocab() == processor.tokenizer.get_vocab()
        assert reloaded_processor.feature_extractor.to_dict() == processor.feature_extractor.to_dict()
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-")]
    reloaded = LogMelWav2Vec2ForCTC.from_pretrained(str(out / "model"))
    with torch.no_grad():
        again = reloaded.eval()(input_features=batch["input_features"], attention_mask=batch["attention_mask"])
    torch.testing.assert_close(again.logits, outputs.logits)


def test_freeze_feature_encoder_and_spec_augment(processor, raw_corpus, tmp_path):
    from hf_asr.training.recipes import load_ctc_model

    model = load_ctc_model(None, processor.tokenizer, quiet_tiny_config(), mask_time_prob=0.3, mask_feature_prob=0.2)
    assert model.config.mask_time_prob == 0.3 and model.config.mask_feature_prob == 0.2
    model, _ = finetune(
        raw_corpus,
        processor,
        model,
        str(tmp_path),
        max_steps=2,
        per_device_batch_size=4,
        freeze_feature_encoder=True,
        device="cpu",
        disable_tqdm=True,
    )
    assert all(not p.requires_grad for p in model.wav2vec2.feature_encoder.parameters())
    assert model.lm_head.weight.requires_grad


def test_the_head_trains_alone_for_the_first_fraction_then_the_whole_model(processor, raw_corpus, tmp_path):
    from transformers import TrainerCallback

    from hf_asr import LogMelWav2Vec2ForPreTraining

    torch.manual_seed(0)
    pretrained = LogMelWav2Vec2ForPreTraining(quiet_tiny_config())
    encoder_start = copy.deepcopy(pretrained.wav2vec2.state_dict())
    after_step = []  # (frozen?, encoder unchanged?, head weight) after each optimizer step

    class Record(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            unchanged = all(torch.equal(v, encoder_start[k]) for k, v in model.wav2vec2.state_dict().items())
            after_step.append((model.base_model_frozen, unchanged, model.lm_head.weight.detach().clone()))

    model, _ = finetune(
        raw_corpus,
        processor,
        pretrained,
        str(tmp_path),
        max_steps=4,
        per_device_batch_size=4,
        learning_rate=1e-2,
        freeze_base_model_fraction=0.5,  # steps begin at progress 0, 0.25 (head alone), 0.5, 0.75 (whole model)
        callbacks=[Record()],
        device="cpu",
        disable_tqdm=True,
    )
    assert [(frozen, unchanged) for frozen, unchanged, _ in after_step] == [
        (True, True),
        (True, True),
        (False, False),
        (False, False),
    ]
    assert not torch.equal(after_step[1][2], after_step[0][2])  # the head learns while the encoder waits
    assert not model.base_model_frozen
    assert model.wav2vec2.encoder.layers[0].attention.qkv.weight.requires_grad
    assert all(not p.requires_grad for p in model.wav2vec2.feature_encoder.parameters())  # stays frozen
    with pytest.raises(ValueError, match="freeze_base_model_fraction"):
        finetune(raw_corpus, processor, None, str(tmp_path / "bad"), max_steps=1, freeze_base_model_fraction=1.0)


def test_freeze_base_model_restores_what_was_trainable(processor):
    model = _model(processor)
    model.freeze_feature_encoder()
    before = {name: p.requires_grad for name, p in model.named_parameters()}
    model.freeze_base_model()
    model.freeze_base_model()  # twice: still restores the first state
    assert model.base_model_frozen
    assert not any(p.requires_grad for p in model.wav2vec2.parameters()) and model.lm_head.weight.requires_grad
    model.freeze_base_model(False)
    assert not model.base_model_frozen
    assert {name: p.requires_grad for name, p in model.named_parameters()} == before


def test_batches_by_total_duration(processor, prepared, tmp_path):
    bound = 4.0
    trainer = _trainer(
        _model(processor),
        processor,
        prepared,
        tmp_path,
        max_steps=3,
        learning_rate=1e-3,
        optim="adamw_torch",
        per_device_batch_size=2,
    )
    trainer.max_seconds_per_batch = bound
    hop = processor.feature_extractor.hop_length / processor.feature_extractor.sampling_rate
    sizes = []
    for batch in trainer.get_train_dataloader():
        size = batch["attention_mask"].shape[0]
        seconds = size * (batch["attention_mask"].sum(-1).max().item() - 1) * hop  # mel frames = 1 + samples // hop
        assert seconds <= bound
        sizes.append(batch["attention_mask"].shape[0])
    assert sum(sizes) == len(prepared) and max(sizes) > 1
    # The duration sampler's batches at this bound, not batches of per_device_train_batch_size.
    sampler = DurationBatchSampler(prepared["duration"], bound, seed=trainer.args.data_seed or trainer.args.seed)
    assert sizes == [len(b) for b in sampler] and max(sizes) > trainer.args.per_device_train_batch_size, sizes
    trainer.train()
    assert all(np.isfinite(h["loss"]) for h in trainer.state.log_history if "loss" in h)


def test_ctc_model_from_a_pretraining_model_or_folder(processor, tmp_path):
    from hf_asr import LogMelWav2Vec2ForPreTraining
    from hf_asr.training.recipes import load_ctc_model

    pretrained = LogMelWav2Vec2ForPreTraining(quiet_tiny_config())
    pretrained.save_pretrained(str(tmp_path))
    for source in (pretrained, str(tmp_path)):
        model = load_ctc_model(source, processor.tokenizer, mask_time_prob=0.05)
        assert isinstance(model, LogMelWav2Vec2ForCTC)
        assert model.config.vocab_size == len(processor.tokenizer) and model.config.mask_time_prob == 0.05
        assert model.config.pad_token_id == processor.tokenizer.pad_token_id
        for name, value in pretrained.wav2vec2.state_dict().items():
            torch.testing.assert_close(model.wav2vec2.state_dict()[name], value, msg=name)


def test_compute_metrics_uses_the_shipped_metric_scripts(processor):
    from transformers import EvalPrediction

    from hf_asr.training.metrics import make_compute_metrics

    tokenizer = processor.tokenizer
    labels = [tokenizer("a cab").input_ids, tokenizer("bad ace").input_ids]
    width = max(map(len, labels))
    label_ids = np.array([ids + [-100] * (width - len(ids)) for ids in labels])
    blank = tokenizer.pad_token_id
    frames = [
        [tokenizer.convert_tokens_to_ids(c) for c in "a|ccab"] + [blank, -100],
        [tokenizer.convert_tokens_to_ids(c) for c in "bad|ac"] + [blank, blank],
    ]  # "a cab", "bad ac"
    metrics = make_compute_metrics(processor)(EvalPrediction(predictions=np.array(frames), label_ids=label_ids))
    assert metrics["wer"] == pytest.approx(1 / 4) and metrics["cer"] == pytest.approx(1 / 12)


def test_checkpoints_are_renamed_into_place_before_any_hub_push(processor, prepared, tmp_path, monkeypatch):
    """transformers 5.24 writes checkpoint-N in place; CTCTrainer writes .tmp-checkpoint-N/checkpoint-N and renames
    it, and defers the Hub push of a checkpoint until it has its final name (no upload of a vanishing folder). The
    push sends the checkpoint's model files, not its training state, and copies nothing into output_dir."""
    import os

    from .fake_hub import install_fake_hub

    hub = install_fake_hub(monkeypatch)
    trainer = _trainer(
        _model(processor),
        processor,
        prepared,
        tmp_path,
        max_steps=4,
        save_steps=2,
        save_strategy="steps",
        save_total_limit=1,
        learning_rate=1e-3,
        optim="adamw_torch",
        push_to_hub=True,
        hub_model_id="someone/tiny-ctc",
    )
    trainer.train()
    assert hub.repos == ["someone/tiny-ctc"]
    assert [upload["folder"] for upload in hub.uploads] == [
        str(tmp_path / "checkpoint-2"),
        str(tmp_path / "checkpoint-4"),
    ]
    for upload in hub.uploads:
        assert {"model.safetensors", "config.json", "vocab.json"} <= set(upload["files"]), upload
        assert not {"optimizer.pt", "scheduler.pt", "trainer_state.json", "training_args.bin"} & set(upload["files"])
    assert sorted(os.listdir(tmp_path)) == ["checkpoint-4"]  # save_total_limit applied to renamed checkpoints


def test_trainer_reads_features_as_arrays(processor, prepared, tmp_path):
    import datasets

    assert isinstance(prepared.features["input_features"], datasets.Array2D)
    trainer = _trainer(_model(processor), processor, prepared, tmp_path)
    row = trainer._remove_unused_columns(prepared, "training")[0]
    assert isinstance(row["input_features"], np.ndarray) and row["input_features"].shape[1] == 80
    assert isinstance(row["labels"], list)
