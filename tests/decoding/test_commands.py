"""`hf-asr build-lm / tune-lm / transcribe` on a tiny model folder, a tiny corpus and a wav file."""

from __future__ import annotations

import json

import datasets
import numpy as np
import pytest
import soundfile
import torch

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC, LogMelWav2Vec2Processor
from hf_asr.cli import main
from hf_asr.hub import save_model_folder
from hf_asr.modeling.lm_decoder import LMDecoder
from hf_asr.modeling.lm_decoder_folder import LM_DIR

from .test_lm_building import needs_tools


@pytest.fixture()
def workdir(tmp_path, tokenizer):
    config = LogMelWav2Vec2Config.tiny(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    model = LogMelWav2Vec2ForCTC(config).eval()
    with torch.no_grad():
        model.lm_head.weight.mul_(40.0)
        model.lm_head.bias[tokenizer.pad_token_id] += 3.0
    save_model_folder(model, LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer), tmp_path / "model")
    rng = np.random.default_rng(0)
    waves = [(0.1 * rng.standard_normal(12000)).astype(np.float32) for _ in range(2)]
    soundfile.write(tmp_path / "a.wav", waves[0], 16000)
    corpus = datasets.Dataset.from_dict(
        {"audio": [{"array": w, "sampling_rate": 16000} for w in waves], "text": ["The cat sat.", "on the mat"]}
    ).cast_column("audio", datasets.Audio(sampling_rate=16000))
    datasets.DatasetDict({"validation": corpus}).save_to_disk(str(tmp_path / "corpus"))
    (tmp_path / "text.txt").write_text("the cat sat\nthe cat sat on the mat\na cat sat on a mat\n")
    return tmp_path


@needs_tools
def test_build_tune_transcribe(workdir, capsys):
    model = str(workdir / "model")
    main(["build-lm", "--text", str(workdir / "text.txt"), "--order", "3", "--out", str(workdir / "lm"),
          "--memory", "64M", "--model", model])  # fmt: skip
    assert LMDecoder.exists_in(model)

    main(["tune-lm", "--model", model, "--dataset", str(workdir / "corpus"), "--alphas", "0.25", "0.75",
          "--betas", "-1", "2", "--num-processes", "1", "--beam-width", "4"])  # fmt: skip
    printed = capsys.readouterr().out
    assert "alpha\\beta" in printed and "best: alpha=" in printed
    best = printed.split("best: alpha=")[1].split()
    attrs = json.loads((workdir / "model" / LM_DIR / "attrs.json").read_text())
    assert (attrs["alpha"], attrs["beta"]) == (float(best[0]), float(best[1].split("=")[1]))

    main(["transcribe", str(workdir / "a.wav"), "--model", model, "--json", "--timestamps"])
    with_lm = json.loads(capsys.readouterr().out.strip())
    assert with_lm["lm"] is True and with_lm["file"].endswith("a.wav")
    assert " ".join(chunk["text"] for chunk in with_lm["chunks"]) == with_lm["text"]
    main(["transcribe", str(workdir / "a.wav"), "--model", model, "--json", "--no-lm"])
    assert json.loads(capsys.readouterr().out.strip())["lm"] is False


def test_transcribe_names_a_missing_model_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        main(["--debug", "transcribe", "x.wav", "--model", str(tmp_path / "nope")])


def test_build_lm_checks_the_model_folder_before_building(tmp_path):
    (tmp_path / "text.txt").write_text("the cat sat\n")
    with pytest.raises(FileNotFoundError, match="--model .*nomodel is not a model folder"):
        main(["--debug", "build-lm", "--text", str(tmp_path / "text.txt"), "--out", str(tmp_path / "lm"),
              "--model", str(tmp_path / "nomodel")])  # fmt: skip
    assert not (tmp_path / "lm").exists()


def test_tune_lm_on_a_model_without_lm_says_how_to_build_one(workdir):
    model = workdir / "model"
    with pytest.raises(FileNotFoundError, match=f"{model} has no saved LM decoder.*hf-asr build-lm"):
        main(["--debug", "tune-lm", "--model", str(model), "--dataset", str(workdir / "corpus")])


def test_transcribe_shows_progress_for_over_a_minute_of_audio(workdir, capsys):
    model = str(workdir / "model")
    rng = np.random.default_rng(1)
    for name, seconds in [("short.wav", 20), ("long.wav", 45)]:
        soundfile.write(workdir / name, (0.1 * rng.standard_normal(seconds * 16000)).astype(np.float32), 16000)
    capsys.readouterr()
    main(["transcribe", str(workdir / "short.wav"), str(workdir / "long.wav"), "--model", model, "--json"])
    captured = capsys.readouterr()
    assert "transcribing" in captured.err and len(captured.out.strip().splitlines()) == 2  # 65 s in all
    main(["transcribe", str(workdir / "long.wav"), "--model", model, "--json"])
    assert "transcribing" not in capsys.readouterr().err


def test_transcribe_chunk_length_zero_keeps_long_files_whole(workdir, monkeypatch):
    from transformers.pipelines.automatic_speech_recognition import AutomaticSpeechRecognitionPipeline

    seen = []
    parent = AutomaticSpeechRecognitionPipeline.preprocess

    def spy(self, inputs, chunk_length_s=0, stride_length_s=None):
        seen.append(chunk_length_s)
        return parent(self, inputs, chunk_length_s=chunk_length_s, stride_length_s=stride_length_s)

    monkeypatch.setattr(AutomaticSpeechRecognitionPipeline, "preprocess", spy)
    path = workdir / "long.wav"
    soundfile.write(path, (0.1 * np.random.default_rng(2).standard_normal(70 * 16000)).astype(np.float32), 16000)
    main(["transcribe", str(path), "--model", str(workdir / "model"), "--no-lm", "--chunk-length-s", "0"])
    main(["transcribe", str(path), "--model", str(workdir / "model"), "--no-lm"])
    assert seen == [0, 20.0]  # 0: whole; by default a file over a minute goes in 20 s chunks


@needs_tools
def test_build_lm_normalises_the_text_with_the_models_normaliser(tmp_path, tokenizer):
    from hf_asr.modeling.text_normalizer import TextNormalizer

    processor = LogMelWav2Vec2Processor(
        LogMelFeatureExtractor(), tokenizer, text_normalizer=TextNormalizer(numbers="drop")
    )
    model = LogMelWav2Vec2ForCTC(LogMelWav2Vec2Config.tiny(vocab_size=len(tokenizer)))
    save_model_folder(model, processor, tmp_path / "model")
    (tmp_path / "text.txt").write_text("The 2 cats sat\nA dog ran 3 times\n")
    build = ["--debug", "build-lm", "--text", str(tmp_path / "text.txt"), "--order", "2", "--memory", "64M"]
    main([*build, "--out", str(tmp_path / "own"), "--model", str(tmp_path / "model")])
    assert (tmp_path / "own" / "unigrams.txt").read_text().split() == ["a", "cats", "dog", "ran", "sat", "the", "times"]
    main([*build, "--out", str(tmp_path / "default")])  # no model: the default normaliser speaks the digits
    assert {"two", "three"} <= set((tmp_path / "default" / "unigrams.txt").read_text().split())
    with pytest.raises(ValueError, match="the options ask for {'numbers': 'words'}"):
        main([*build, "--out", str(tmp_path / "x"), "--model", str(tmp_path / "model"), "--numbers", "words"])


def test_evaluate_prints_and_writes_greedy_and_lm_scores(workdir, model_folder, capsys):
    from hf_asr.data.loading import load_corpus
    from hf_asr.decoding.evaluation import evaluate_ctc

    folder, model, _ = model_folder
    corpus, out = str(workdir / "corpus"), workdir / "results"
    argv = ["evaluate", "--model", str(folder), "--corpus", corpus, "--split", "validation", "--output_dir", str(out)]
    assert main([*argv, "--num_processes", "1", "--batch_size", "1"]) == 0
    printed = capsys.readouterr().out
    processor = LogMelWav2Vec2Processor.from_pretrained(folder)
    split = load_corpus(corpus, split="validation")
    expected = evaluate_ctc(model, processor, split, processor.decoder, num_processes=1, progress=False).scores
    assert set(expected) == {"wer_greedy", "cer_greedy", "wer_lm", "cer_lm"}
    results = json.loads((out / "eval_results.json").read_text())
    assert results == {
        "model": str(folder),
        "corpus": corpus,
        "split": "validation",
        "eval_samples": 2,
        **{f"eval_{name}": pytest.approx(value) for name, value in expected.items()},
    }
    assert f"WER/CER on 2 utterances of {corpus} [validation]" in printed
    for name, suffix in (("greedy", "greedy"), ("with the LM", "lm")):
        assert f"{name:12s} WER {100 * expected[f'wer_{suffix}']:6.2f}%" in printed
    assert not (folder / "eval_results.json").exists()  # --output_dir, not the model folder


def test_evaluate_without_an_lm_is_greedy_and_says_so(workdir, capsys):
    model, corpus = workdir / "model", str(workdir / "corpus")
    assert main(["evaluate", "--model", str(model), "--corpus", corpus, "--split", "validation"]) == 0
    printed = capsys.readouterr().out
    assert (
        f"{model} has no LM: greedy decoding only (`hf-asr build-lm --text TEXT --out LM_DIR --model {model}`"
        in printed
    )
    assert "with the LM" not in printed
    results = json.loads((model / "eval_results.json").read_text())  # by default beside the model it measures
    assert {"eval_wer_greedy", "eval_cer_greedy"} <= set(results) and "eval_wer_lm" not in results

    with pytest.raises(ValueError, match=r"corpus has no split 'test'; its splits are \['validation'\]"):
        main(["--debug", "evaluate", "--model", str(model), "--corpus", corpus])
    run = workdir / "run"
    (run / "model").mkdir(parents=True)
    for path in model.iterdir():  # a training run's output_dir: the model folder is run/model
        (run / "model" / path.name).symlink_to(path)
    with pytest.raises(FileNotFoundError, match=f"--model {run} is the output_dir of a training run.*{run / 'model'}"):
        main(["--debug", "evaluate", "--model", str(run), "--corpus", corpus, "--split", "validation"])
