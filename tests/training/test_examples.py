"""The example scripts run on a saved corpus (transcripts in a `sentence` column); the accelerate configs parse."""

from __future__ import annotations

import os
import runpy
import sys

import datasets
import pytest

from .synthetic import tone_corpus

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("name", ["ddp_multi_gpu.yaml", "fsdp.yaml", "multi_node.yaml"])
def test_accelerate_configs_load(name):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(os.path.join(ROOT, "examples", "accelerate", name))
    assert config.num_processes >= 8 and config.distributed_type.value in ("MULTI_GPU", "FSDP")
    if name == "fsdp.yaml":
        from accelerate.utils.dataclasses import get_module_class_from_name

        from hf_asr import LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC

        # FSDP finds the class to wrap by name among the model's modules: it must be the Transformer layer.
        model = LogMelWav2Vec2ForCTC(LogMelWav2Vec2Config.tiny())
        layer_class = get_module_class_from_name(model, config.fsdp_config["fsdp_transformer_layer_cls_to_wrap"])
        layers = [m for m in model.modules() if layer_class is not None and isinstance(m, layer_class)]
        assert layers == list(model.wav2vec2.encoder.layers), layer_class
        assert set(model._no_split_modules) == {layer_class.__name__}  # FSDP's default wrap class, device_map's unit


def test_multi_node_config_runs_8_processes_on_each_of_2_machines(tmp_path, monkeypatch):
    """What `accelerate launch --config_file multi_node.yaml --machine_rank 1 -m hf_asr.cli ...` has torchrun run
    on the second machine (nothing is started)."""
    import tempfile

    import torch.distributed.run as torchrun
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import _filter_args, prepare_multi_gpu_env

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # torchrun's log folder
    config_file = os.path.join(ROOT, "examples", "accelerate", "multi_node.yaml")
    argv = ["--config_file", config_file, "--machine_rank", "1", "-m", "hf_asr.cli", "finetune", "--bf16"]
    args, _, _ = _validate_launch_command(launch_command_parser().parse_args(argv))
    prepare_multi_gpu_env(args)
    script = ["--training_script", args.training_script, "--training_script_args", args.training_script_args]
    launch, program, program_args = torchrun.config_from_args(_filter_args(args, torchrun.get_args_parser(), script))
    assert (launch.min_nodes, launch.max_nodes, launch.nproc_per_node) == (2, 2, 8)  # num_processes: all machines
    assert (launch.rdzv_backend, launch.rdzv_endpoint, launch.rdzv_configs["rank"]) == ("static", "10.0.0.1:29500", 1)
    assert program_args[-4:] == ["-m", "hf_asr.cli", "finetune", "--bf16"]


def test_examples_run(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "corpus"
    corpus = datasets.DatasetDict({"train": tone_corpus(copies=1), "validation": tone_corpus(copies=1, seed=2)})
    corpus = corpus.rename_column("text", "sentence")  # transcripts in a column of another name: --text_column
    corpus.cast_column("audio", datasets.Audio(sampling_rate=16000)).save_to_disk(str(folder))
    for script, out in (("pretrain.py", "pre"), ("finetune_ctc.py", "ctc")):
        argv = [script, str(folder), str(tmp_path / out), "--max_steps", "2", "--batch_size", "4", "--device", "cpu"]
        if script == "finetune_ctc.py":
            argv += ["--init_from", str(tmp_path / "pre" / "model"), "--text_column", "sentence"]
        monkeypatch.setattr(sys, "argv", argv)
        runpy.run_path(os.path.join(ROOT, "examples", script), run_name="__main__")
        assert (tmp_path / out / "model" / "model.safetensors").exists()
    assert "eval WER" in capsys.readouterr().out
