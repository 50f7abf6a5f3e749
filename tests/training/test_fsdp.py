"""examples/accelerate/fsdp.yaml on two CPU processes (gloo): `hf-asr pretrain`, then `hf-asr finetune` from it,
sharded by FSDP2. The fine-tuning logs the same losses as one process with the same global batch, its checkpoints
are sharded and a run resumed from one ends with the same model, and the final folders load as plain models.

accelerate runs FSDP configs on CPU as DDP (see fsdp_on_cpu.py, which applies FSDP anyway)."""

from __future__ import annotations

import json
import logging
import types

import datasets
import pytest
import torch
import yaml
from accelerate.utils import DistributedType, merge_fsdp_weights

from hf_asr import LogMelWav2Vec2Config
from hf_asr.cli import main
from hf_asr.training import fsdp

from .launching import ROOT, accelerate_launch
from .synthetic import tone_corpus


def cpu_variant(config_file: str, target) -> str:
    """The accelerate config `config_file` with its FSDP settings for two processes on the CPU."""
    with open(config_file) as handle:
        config = yaml.safe_load(handle)
    config.update(num_processes=2, use_cpu=True, mixed_precision="no")
    target.write_text(yaml.safe_dump(config))
    return str(target)


def history(folder) -> dict[int, float]:
    state = json.loads((folder / "trainer_state.json").read_text())
    return {h["step"]: h["loss"] for h in state["log_history"] if "loss" in h}


def logits(folder, features: torch.Tensor) -> torch.Tensor:
    from transformers import AutoModelForCTC

    with torch.no_grad():
        return AutoModelForCTC.from_pretrained(str(folder)).eval()(input_features=features).logits


def test_fsdp_pretrain_finetune_resume_on_two_cpu_processes(tmp_path):
    corpus = tmp_path / "corpus"
    splits = {"train": tone_corpus(copies=2, seed=0), "validation": tone_corpus(copies=1, seed=3)}
    datasets.DatasetDict(splits).cast_column("audio", datasets.Audio(sampling_rate=16000)).save_to_disk(str(corpus))
    # No dropout (and no SpecAugment below): one process and two give the same losses.
    LogMelWav2Vec2Config.tiny(
        hidden_dropout=0.0, attention_dropout=0.0, final_dropout=0.0, feat_proj_dropout=0.0
    ).to_json_file(str(tmp_path / "quiet.json"))
    common = ["--corpus", str(corpus), "--cache_dir", str(tmp_path / "cache"), "--use_cpu", "--report_to", "none"]
    common += ["--eval_strategy", "no", "--logging_steps", "1", "--disable_tqdm", "true"]
    pre, ctc, resumed, single = (tmp_path / name for name in ("pre", "ctc", "resumed", "single"))
    finetune = [
        "finetune",
        *common,
        "--init_from",
        str(pre / "model"),
        "--mask_time_prob",
        "0",
        "--learning_rate",
        "1e-3",
    ]
    finetune += ["--max_steps", "6", "--save_steps", "3"]
    pretrain = ["pretrain", *common, "--config", str(tmp_path / "quiet.json"), "--max_steps", "2"]
    two = ["--per_device_train_batch_size", "2"]
    resume = ["--resume_from_checkpoint", str(ctc / "checkpoint-3")]
    resume += ["--learning_rate", "5e-3"]  # ignored when resuming: schedule and optimizer come from the checkpoint
    commands = [
        [*pretrain, *two, "--output_dir", str(pre)],
        [*finetune, *two, "--output_dir", str(ctc)],
        [*finetune, *two, "--output_dir", str(resumed), *resume],
    ]
    config_file = cpu_variant(f"{ROOT}/examples/accelerate/fsdp.yaml", tmp_path / "fsdp_cpu.yaml")
    one_after_another = [word for command in commands for word in ("--then", *command)][1:]
    process = accelerate_launch(["--config_file", config_file], "tests.training.fsdp_on_cpu", *one_after_another)
    assert process.returncode == 0, process.stderr[-4000:]

    # Sharded checkpoints (one file per process) beside the config and processor; no gathered weights.
    for step in (3, 6):
        checkpoint = ctc / f"checkpoint-{step}"
        assert len(list((checkpoint / "pytorch_model_fsdp_0").glob("*.distcp"))) == 2
        assert (checkpoint / "optimizer_0").is_dir() and (checkpoint / "config.json").is_file()
        assert not (checkpoint / "model.safetensors").exists()

    # The final folders hold the gathered weights of the plain classes (not torch's generated FSDP subclasses).
    from transformers import AutoModelForPreTraining

    model = AutoModelForPreTraining.from_pretrained(str(pre / "model"))
    assert model.config.architectures == ["LogMelWav2Vec2ForPreTraining"]
    saved = json.loads((pre / "model" / "config.json").read_text())["auto_map"]
    assert saved["AutoModelForPreTraining"] == "model.LogMelWav2Vec2ForPreTraining"
    assert not list((pre / "model").glob("_fsdp*.py")) and not (pre / "model" / "training_args.bin").exists()

    # Two FSDP processes with 2 utterances each = one process with 4 (the new CTC head is the same too).
    assert main([*finetune, "--per_device_train_batch_size", "4", "--output_dir", str(single)]) == 0
    losses = history(ctc / "checkpoint-6")
    assert sorted(losses) == list(range(1, 7))
    assert losses == pytest.approx(history(single / "checkpoint-6"), abs=1e-5, rel=0)
    assert history(resumed / "checkpoint-6") == pytest.approx(losses, abs=1e-6, rel=0)

    features = torch.randn(2, 150, 80, generator=torch.Generator().manual_seed(0))
    final = logits(ctc / "model", features)
    merge_fsdp_weights(str(ctc / "checkpoint-6" / "pytorch_model_fsdp_0"), str(ctc / "checkpoint-6"))
    torch.testing.assert_close(logits(ctc / "checkpoint-6", features), final, rtol=0, atol=0)
    torch.testing.assert_close(logits(resumed / "model", features), final, rtol=0, atol=1e-6)
    torch.testing.assert_close(logits(single / "model", features), final, rtol=0, atol=1e-4)


def test_an_fsdp_config_that_accelerate_does_not_apply_is_reported(monkeypatch, caplog):
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    accelerator = types.SimpleNamespace(distributed_type=DistributedType.MULTI_CPU)
    with caplog.at_level(logging.WARNING, logger="hf_asr.training.fsdp"):
        fsdp.warn_if_not_applied(types.SimpleNamespace(fsdp=None), accelerator, fsdp_enabled=True)
        assert not caplog.records
        fsdp.warn_if_not_applied(types.SimpleNamespace(fsdp=None), accelerator, fsdp_enabled=False)
    assert "MULTI_CPU" in caplog.text and "not sharded" in caplog.text
