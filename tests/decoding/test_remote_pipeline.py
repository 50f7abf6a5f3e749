"""The LM pipeline shipped in a saved folder: `pipeline(task, model=folder, trust_remote_code=True)` without hf_asr."""

from __future__ import annotations

import json
from pathlib import Path

import soundfile
from transformers import AutoConfig, AutoFeatureExtractor, AutoTokenizer, pipeline

from hf_asr.decoding.pipeline import TASK, LMSpeechRecognitionPipeline

from ..without_hf_asr import run_without_hf_asr
from .synthetic import SAMPLING_RATE, audio

REMOTE_PIPELINE = """
    import json, sys
    from transformers import pipeline

    folder, wav_path, out_path = sys.argv[1:4]
    asr = pipeline("automatic-speech-recognition", model=folder, trust_remote_code=True)
    output = asr(wav_path, return_timestamps="word")
    assert not [name for name in sys.modules if name.split(".")[0] == "hf_asr"]
    shipped = {
        "pipeline": [type(asr).__module__, type(asr).__name__],
        "type": asr.type,
        "decoder": [type(asr.decoder).__module__, type(asr.decoder).__name__],
        "output": output,
    }
    with open(out_path, "w") as handle:
        json.dump(shipped, handle)
"""


def fake_ffmpeg(folder: Path) -> Path:
    """A new folder whose only program is an `ffmpeg` that leaves `ffmpeg-was-called` in `folder` and fails (shell
    builtins only: the folder is the whole PATH)."""
    folder.mkdir()
    program = folder / "ffmpeg"
    program.write_text(f"#!/bin/sh\necho called > {folder / 'ffmpeg-was-called'}\nexit 1\n")
    program.chmod(0o755)
    return folder


def test_shipped_pipeline_decodes_a_file_with_the_lm_without_hf_asr_or_ffmpeg(model_folder, tmp_path):
    folder, _, _ = model_folder
    wav = tmp_path / "clip.wav"
    soundfile.write(wav, audio(2.0, seed=1), SAMPLING_RATE, subtype="PCM_16")
    with_lm = pipeline(TASK, model=str(folder))(str(wav), return_timestamps="word")
    greedy = pipeline(TASK, model=str(folder), use_lm=False)(str(wav))
    assert with_lm["text"] and with_lm["text"] != greedy["text"]  # so equal texts below mean LM decoding
    programs = fake_ffmpeg(tmp_path / "bin")
    result = run_without_hf_asr(
        REMOTE_PIPELINE, [str(folder), str(wav), str(tmp_path / "out.json")], tmp_path, env={"PATH": str(programs)}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    shipped = json.loads((tmp_path / "out.json").read_text())
    module, name = shipped["pipeline"]
    assert module.startswith("transformers_modules.") and module.endswith(".asr_pipeline")
    assert name == "LMSpeechRecognitionPipeline" and shipped["type"] == "ctc_with_lm"
    assert shipped["decoder"][0].endswith(".lm_decoder") and shipped["decoder"][1] == "LMDecoder"
    assert shipped["output"] == json.loads(json.dumps(with_lm))  # word timestamps: tuples come back as lists
    assert not (programs / "ffmpeg-was-called").exists()


def test_saved_config_names_the_shipped_pipeline_file(model_folder):
    folder, _, _ = model_folder
    config = json.loads((folder / "config.json").read_text())
    entry = config["custom_pipelines"][TASK]
    module, name = entry["impl"].split(".")
    assert (folder / f"{module}.py").is_file() and f"class {name}(" in (folder / f"{module}.py").read_text()
    assert entry["pt"] == ["AutoModelForCTC"] and "AutoModelForCTC" in config["auto_map"]
    assert entry["type"] == "audio"


def test_with_hf_asr_imported_its_own_pipeline_serves_the_task(model_folder):
    """transformers refuses a config's custom pipeline without trust_remote_code: where hf_asr registered the same
    pipeline, loaded and saved-from configs hold no entry, and every call builds hf_asr's class as before."""
    folder, model, _ = model_folder
    assert not getattr(AutoConfig.from_pretrained(folder), "custom_pipelines", None)
    assert not getattr(model.config, "custom_pipelines", None)  # after its save
    assert type(pipeline(TASK, model=str(folder), trust_remote_code=True)) is LMSpeechRecognitionPipeline
    from_object = pipeline(
        TASK,
        model=model,
        tokenizer=AutoTokenizer.from_pretrained(folder),
        feature_extractor=AutoFeatureExtractor.from_pretrained(folder),
    )
    assert type(from_object) is LMSpeechRecognitionPipeline
