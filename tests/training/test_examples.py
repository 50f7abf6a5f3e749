"""The example scripts run on a saved corpus; the accelerate configs parse."""

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


def test_examples_run(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "corpus"
    corpus = datasets.DatasetDict({"train": tone_corpus(copies=1), "validation": tone_corpus(copies=1, seed=2)})
    corpus.cast_column("audio", datasets.Audio(sampling_rate=16000)).save_to_disk(str(folder))
    for script, out in (("pretrain.py", "pre"), ("finetune_ctc.py", "ctc")):
        argv = [script, str(folder), str(tmp_path / out), "--max_steps", "2", "--batch_size", "4", "--device", "cpu"]
        if script == "finetune_ctc.py":
            argv += ["--init_from", str(tmp_path / "pre")]
        monkeypatch.setattr(sys, "argv", argv)
        runpy.run_path(os.path.join(ROOT, "examples", script), run_name="__main__")
        assert (tmp_path / out / "model.safetensors").exists()
    assert "eval WER" in capsys.readouterr().out
