"""PretrainingTrainer: the loss falls, the codebook stays alive, temperature schedule, collapse alarm, scaling."""

from __future__ import annotations

import copy
import logging

import pytest
import torch
from transformers import TrainerControl, TrainerState, TrainingArguments

from hf_asr import LogMelWav2Vec2ForPreTraining
from hf_asr.data.features import prepare_dataset
from hf_asr.training import (
    CodebookCollapseCallback,
    GumbelTemperatureCallback,
    PretrainingTrainer,
    make_training_args,
    pretrain,
)

from .runs import PerExampleMaskCollator, quiet_tiny_config
from .synthetic import tone_corpus


def _pretraining_config(**overrides):
    settings = dict(mask_time_prob=0.3, mask_time_length=3, num_negatives=10, gumbel_temperature_decay=0.99)
    settings.update(overrides)
    return quiet_tiny_config(**settings)


def test_pretraining_loss_falls_and_codebook_stays_alive(tmp_path):
    config = _pretraining_config(hidden_dropout=0.1)
    model, history = pretrain(
        tone_corpus(copies=3),
        config,
        str(tmp_path),
        max_steps=80,
        per_device_batch_size=8,
        learning_rate=2e-3,
        logging_steps=10,
        device="cpu",
        disable_tqdm=True,
    )
    logs = [h for h in history if "loss" in h]
    assert len(logs) == 8
    assert logs[-1]["loss"] < 0.6 * logs[0]["loss"], [h["loss"] for h in logs]
    floor = config.num_codevector_groups
    assert all(h["codevector_perplexity"] > 2 * floor for h in logs), [h["codevector_perplexity"] for h in logs]
    assert logs[-1]["contrastive_accuracy"] > 2 / (config.num_negatives + 1)
    assert all(h["codebook_collapsed"] == 0 for h in logs)
    for h in logs:  # the temperature logged at step s is the schedule's value at s
        assert h["gumbel_temperature"] == pytest.approx(model.gumbel_temperature_at(h["step"]), rel=1e-6)
    assert model.quantizer.temperature == pytest.approx(model.gumbel_temperature_at(80))
    assert (tmp_path / "model" / "preprocessor_config.json").exists() and (
        tmp_path / "model" / "model.safetensors"
    ).exists()


def test_temperature_callback_sets_the_schedule_value():
    model = LogMelWav2Vec2ForPreTraining(_pretraining_config(gumbel_temperature_decay=0.9))
    callback, state, control = GumbelTemperatureCallback(), TrainerState(), TrainerControl()
    args = TrainingArguments("unused", use_cpu=True, report_to="none")
    state.global_step = 5  # e.g. a resumed run: training starts at step 5
    callback.on_train_begin(args, state, control, model=model)
    assert model.quantizer.temperature == pytest.approx(2.0 * 0.9**5)
    for step in (6, 7, 30):
        state.global_step = step
        callback.on_step_end(args, state, control, model=model)
        assert model.quantizer.temperature == pytest.approx(max(2.0 * 0.9**step, 0.5))


def test_codebook_collapse_alarm(caplog):
    callback = CodebookCollapseCallback(num_groups=2, num_negatives=9, patience=3)
    state, control, args = TrainerState(), TrainerControl(), None
    healthy = {"loss": 1.0, "codevector_perplexity": 12.0, "contrastive_accuracy": 0.6}
    collapsed = {"loss": 2.3, "codevector_perplexity": 2.05, "contrastive_accuracy": 0.6}
    at_chance = {"loss": 2.3, "codevector_perplexity": 12.0, "contrastive_accuracy": 0.1}
    flags = []
    with caplog.at_level(logging.WARNING):
        for step, logs in enumerate(
            [
                healthy,
                collapsed,
                collapsed,
                healthy,
                collapsed,
                collapsed,
                collapsed,
                collapsed,
                healthy,
                at_chance,
                at_chance,
                at_chance,
            ],
            start=1,
        ):
            logs = dict(logs)
            state.global_step = step
            state.log_history.append({**logs, "step": step})
            callback.on_log(args, state, control, logs=logs)
            flags.append(logs["codebook_collapsed"])
            assert state.log_history[-1]["codebook_collapsed"] == logs["codebook_collapsed"]
    assert flags == [0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1]
    assert caplog.text.count("Codebook collapse suspected") == 2
    untouched = {"eval_loss": 1.0}
    callback.on_log(args, state, control, logs=untouched)
    assert "codebook_collapsed" not in untouched


@pytest.mark.parametrize("micro_batch", [2, 3])
def test_loss_per_masked_frame_is_normalised_over_the_accumulated_batch(tmp_path, micro_batch):
    """GA=2 == one batch of 4: same logged loss and update, to 1e-5 (diversity weight 0: the perplexity of a batch
    is not the mean of its halves'; quantizer in eval mode: no Gumbel noise)."""
    config = _pretraining_config(diversity_loss_weight=0.0)
    dataset = prepare_dataset(tone_corpus(copies=1), _extractor()).select([0, 3, 4, 6])
    dataset = dataset.add_column("example_id", list(range(len(dataset))))
    torch.manual_seed(0)
    start = LogMelWav2Vec2ForPreTraining(config)
    results = []
    for batch, accumulation in ((4, 1), (micro_batch, 2)):
        model = copy.deepcopy(start)
        model.quantizer.eval()
        model.quantizer.train = lambda mode=True, q=model.quantizer: q  # stays in eval mode (argmax codes)
        args = make_training_args(
            str(tmp_path / f"{batch}"),
            1,
            batch,
            1.0,
            warmup_steps=0,
            logging_steps=1,
            device="cpu",
            optim="sgd",
            max_grad_norm=0.0,
            weight_decay=0.0,
            train_sampling_strategy="sequential",
            gradient_accumulation_steps=accumulation,
            remove_unused_columns=False,
            disable_tqdm=True,
        )
        trainer = PretrainingTrainer(
            model=model, args=args, data_collator=PerExampleMaskCollator(config), train_dataset=dataset
        )
        trainer.train()
        results.append((trainer.state.log_history[0], {k: v.detach().clone() for k, v in model.named_parameters()}))
    (log_full, params_full), (log_ga, params_ga) = results
    assert log_ga["loss"] == pytest.approx(log_full["loss"], rel=1e-5)
    assert log_ga["num_masked_frames"] == log_full["num_masked_frames"]
    assert log_ga["contrastive_loss"] == pytest.approx(log_full["loss"], rel=1e-5)
    for name, value in params_full.items():
        torch.testing.assert_close(params_ga[name], value, rtol=0, atol=1e-5, msg=name)


def _extractor():
    from hf_asr import LogMelFeatureExtractor

    return LogMelFeatureExtractor()
