"""`hf-asr pretrain` / `hf-asr finetune`: every TrainingArguments option is there; runs on a saved corpus, writes
checkpoints with the processor, and a second invocation resumes from the last checkpoint."""

from __future__ import annotations

import json
import logging

import datasets
import pytest

from hf_asr.cli import build_parser, main
from hf_asr.data.layouts import LAYOUTS

from .synthetic import tone_corpus


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus") / "tones"
    corpus = datasets.DatasetDict({"train": tone_corpus(copies=2, seed=0), "validation": tone_corpus(copies=1, seed=3)})
    corpus = corpus.cast_column("audio", datasets.Audio(sampling_rate=16000))
    corpus.save_to_disk(str(folder))
    return folder


@pytest.mark.parametrize("command", ["pretrain", "finetune"])
def test_help_lists_hf_asr_and_trainer_options(command, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    text = capsys.readouterr().out
    for option in (
        "--corpus",
        "--max_seconds_per_batch",
        "--validation_fraction",
        "--max_train_samples",
        "--max_eval_samples",
        "--min_audio_seconds",
        "--auto_resume",
        "--gradient_accumulation_steps",
        "--resume_from_checkpoint",
        "--save_steps",
        "--bf16",
        "--ddp_backend",
        "--output_dir",
    ):
        assert option in text, option


def test_finetune_then_resume_from_the_cli(corpus_dir, tmp_path, caplog):
    out = tmp_path / "ctc"
    argv = [
        "finetune",
        "--corpus",
        str(corpus_dir),
        "--output_dir",
        str(out),
        "--max_steps",
        "4",
        "--per_device_train_batch_size",
        "4",
        "--save_steps",
        "2",
        "--logging_steps",
        "1",
        "--use_cpu",
        "--report_to",
        "none",
        "--eval_strategy",
        "steps",
        "--eval_steps",
        "4",
        "--learning_rate",
        "1e-3",
        "--mask_time_prob",
        "0.1",
        "--mask_time_length",
        "2",
        "--max_seconds_per_batch",
        "5",
    ]
    with pytest.raises(SystemExit):  # mask_time_length is not an option: unknown options are refused
        main(argv)
    argv = argv[:-4] + ["--max_seconds_per_batch", "5"]
    with caplog.at_level(logging.WARNING):
        assert main(argv) == 0
    assert "resum" not in caplog.text.lower() and "checkpoint" not in caplog.text  # a fresh run says nothing of it
    assert {"checkpoint-2", "checkpoint-4", "model", "all_results.json", "trainer_state.json"} <= _names(out)
    # The final model folder holds the model, processor, code and card only: no training state or logs.
    model_files = _names(out / "model")
    assert {"config.json", "model.safetensors", "vocab.json", "processor_config.json", "model.py"} <= model_files
    assert not [n for n in model_files if n.startswith(("checkpoint", "runs", "trainer_state", "training_args"))]
    results = json.loads((out / "all_results.json").read_text())
    assert {"train_loss", "train_runtime", "eval_wer", "eval_cer"} <= set(results), results
    assert results["train_samples"] == 16 and results["eval_samples"] == 8
    card = (out / "model" / "README.md").read_text()
    assert "pipeline_tag: automatic-speech-recognition" in card and f"{100 * results['eval_wer']:.1f}%" in card
    state = json.loads((out / "checkpoint-4" / "trainer_state.json").read_text())
    assert any("eval_wer" in h for h in state["log_history"])
    assert {"model.safetensors", "vocab.json", "optimizer.pt", "rng_state.pth"} <= _names(out / "checkpoint-2")

    # A second run asks for 6 steps: it resumes from checkpoint-4, says so, and trains steps 5 and 6 only.
    argv[argv.index("--max_steps") + 1] = "6"
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert main(argv) == 0
    assert "resumed from checkpoint-4 at step 4" in caplog.text
    state = json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())
    steps = [h["step"] for h in state["log_history"] if "loss" in h]
    assert steps == [1, 2, 3, 4, 5, 6]

    # Asking for no more steps than the checkpoint has done is refused, naming both numbers (not 0 steps, silently).
    argv[argv.index("--max_steps") + 1] = "5"
    with pytest.raises(
        ValueError, match=r"max_steps is 5 but .*checkpoint-6, the checkpoint to resume from, is at step 6"
    ):
        main(["--debug", *argv])


def _names(folder) -> set[str]:
    return {path.name for path in folder.iterdir()}


def test_pretrain_from_the_cli(corpus_dir, tmp_path):
    out = tmp_path / "pre"
    assert (
        main(
            [
                "pretrain",
                "--corpus",
                str(corpus_dir),
                "--output_dir",
                str(out),
                "--max_steps",
                "3",
                "--per_device_train_batch_size",
                "4",
                "--logging_steps",
                "1",
                "--use_cpu",
                "--report_to",
                "none",
                "--mask_prob",
                "0.3",
                "--span_length",
                "3",
                "--num_negatives",
                "5",
                "--diversity_loss_weight",
                "0.2",
            ]
        )
        == 0
    )
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["diversity_loss_weight"] == 0.2 and (out / "model" / "preprocessor_config.json").exists()
    assert "pipeline_tag: feature-extraction" in (out / "model" / "README.md").read_text()
    assert "eval_loss" in json.loads((out / "all_results.json").read_text())  # the validation split, at the end

    # Fine-tune from the pretrained folder through the CLI, with a given vocabulary.
    from hf_asr.data.vocab import build_vocab

    from .synthetic import SENTENCES

    vocab = build_vocab(SENTENCES + ("xyz",))
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    ctc = tmp_path / "ctc"
    assert (
        main(
            [
                "finetune",
                "--corpus",
                str(corpus_dir),
                "--init_from",
                str(out / "model"),
                "--output_dir",
                str(ctc),
                "--vocab",
                str(tmp_path / "vocab.json"),
                "--max_steps",
                "2",
                "--per_device_train_batch_size",
                "4",
                "--use_cpu",
                "--report_to",
                "none",
            ]
        )
        == 0
    )
    assert (ctc / "model" / "model.safetensors").exists()
    assert json.loads((ctc / "model" / "config.json").read_text())["vocab_size"] == len(vocab)


def test_features_are_cached_outside_the_corpus_folder_and_reused(corpus_dir, tmp_path):
    def files(folder):
        return {path.relative_to(folder): path.stat().st_mtime_ns for path in folder.rglob("*") if path.is_file()}

    corpus_files, cache = files(corpus_dir), tmp_path / "features"
    argv = ["finetune", "--corpus", str(corpus_dir), "--output_dir", str(tmp_path / "a"), "--max_steps", "1",
            "--use_cpu", "--report_to", "none", "--eval_strategy", "no", "--per_device_train_batch_size", "2",
            "--cache_dir", str(cache), "--preprocessing_num_workers", "1"]  # fmt: skip
    assert main(argv) == 0
    assert files(corpus_dir) == corpus_files  # nothing written into the user's corpus
    cached = files(cache)
    assert len([name for name in cached if name.suffix == ".arrow"]) == 2  # train and validation
    argv[argv.index("--output_dir") + 1] = str(tmp_path / "b")
    assert main(argv) == 0
    assert files(cache) == cached  # the second run read them back, computed nothing anew


LAYOUT_RUNS = {  # layout: (corpus path in the folder written, build-vocab options, finetune split options, split
    # that `hf-asr evaluate` scores)
    "librispeech": (
        "LibriSpeech",
        ["--train-split", "train-clean-100"],
        ["--train_split", "train-clean-100", "--eval_split", "dev-clean"],
        "dev-clean",
    ),
    "common_voice": ("", [], ["--max_eval_samples", "1"], "test"),
    "nemo": ("train_manifest.json", [], ["--validation_fraction", "0.34", "--min_audio_seconds", "0.2"], "train"),
    "speechbrain": (
        "",
        ["--train-split", "train+validation"],
        ["--train_split", "train+validation", "--max_train_samples", "2"],
        "validation",
    ),
}


@pytest.mark.parametrize("layout", list(LAYOUT_RUNS))
def test_build_vocab_then_finetune_on_each_corpus_layout(layout, tmp_path, capsys):
    from ..data import layout_corpora

    folder = tmp_path / layout
    getattr(layout_corpora, f"make_{layout}")(folder)
    below, vocab_options, split_options, scored_split = LAYOUT_RUNS[layout]
    corpus = str(folder / below)
    assert main(["build-vocab", "--corpus", corpus, "--out", str(tmp_path / "vocab"), *vocab_options]) == 0
    assert f"{corpus}: found {LAYOUTS[layout].split(' (')[0]}: splits " in capsys.readouterr().out
    out = tmp_path / "ctc"
    argv = ["finetune", "--corpus", corpus, "--vocab", str(tmp_path / "vocab" / "vocab.json"), "--output_dir"]
    argv += [str(out), "--max_steps", "2", "--per_device_train_batch_size", "2", "--eval_strategy", "steps"]
    argv += ["--eval_steps", "2", "--save_strategy", "no", "--use_cpu", "--report_to", "none", "--disable_tqdm", "true"]
    assert main([*argv, *split_options]) == 0
    assert (out / "model" / "model.safetensors").exists()
    assert "'eval_wer'" in capsys.readouterr().out  # the eval split was there and evaluated
    scores = tmp_path / "scores"
    evaluate = ["evaluate", "--model", str(out / "model"), "--corpus", corpus, "--split", scored_split]
    assert main([*evaluate, "--output_dir", str(scores), "--num_processes", "1"]) == 0
    results = json.loads((scores / "eval_results.json").read_text())
    assert results["split"] == scored_split and results["eval_samples"] >= 1
    assert results["eval_wer_greedy"] >= 0 and results["eval_cer_greedy"] >= 0, results  # CER > 1: insertions


def test_push_to_hub_uploads_the_clean_model_folder_with_its_lm(corpus_dir, tmp_path, monkeypatch):
    from hf_asr.modeling.lm_decoder import LMDecoder

    from ..decoding.conftest import ARPA
    from .fake_hub import install_fake_hub
    from .runs import make_processor

    processor = make_processor()  # with an LM decoder: --processor carries it into the model folder
    (tmp_path / "lm.arpa").write_text(ARPA.lstrip())
    processor.decoder = LMDecoder.from_tokenizer(processor.tokenizer, tmp_path / "lm.arpa", unigrams=["the", "cat"])
    processor.save_pretrained(tmp_path / "processor")
    hub = install_fake_hub(monkeypatch)
    out = tmp_path / "ctc"
    argv = ["finetune", "--corpus", str(corpus_dir), "--processor", str(tmp_path / "processor"), "--output_dir"]
    argv += [str(out), "--max_steps", "2", "--per_device_train_batch_size", "4", "--save_steps", "1", "--use_cpu"]
    argv += ["--report_to", "none", "--push_to_hub", "--hub_model_id", "someone/ctc", "--disable_tqdm", "true"]
    assert main(argv) == 0
    assert hub.repos == ["someone/ctc"]
    *checkpoints, final = hub.uploads
    assert [upload["folder"] for upload in checkpoints] == [str(out / "checkpoint-1"), str(out / "checkpoint-2")]
    assert final["folder"] == str(out / "model") and final["path_in_repo"] is None
    files = set(final["files"])
    assert {"README.md", "config.json", "model.safetensors", "vocab.json", "model.py", "alphabet.json"} <= files
    assert {"language_model/attrs.json", "language_model/unigrams.txt", "language_model/lm.arpa"} <= files, files
    assert files == _files_in(out / "model")  # the folder as it is on disk, nothing left out
    assert not [name for name in files if name.startswith(("checkpoint", "runs/", "training_args", "trainer_state"))]
    assert "KenLM decoder in `language_model/`" in (out / "model" / "README.md").read_text()


def _files_in(folder) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


class _Stop(Exception):
    """Raised instead of training: the test has seen what it needs."""


@pytest.mark.parametrize(
    "init_from, options, frozen",
    [
        (False, [], False),  # a new model trains its feature encoder
        (True, [], True),  # on top of a pretrained one, it is kept fixed
        (True, ["--freeze_feature_encoder", "false"], False),
        (False, ["--freeze_feature_encoder", "true"], True),
    ],
)
def test_feature_encoder_is_frozen_by_default_only_with_init_from(
    init_from, options, frozen, corpus_dir, tmp_path, monkeypatch
):
    from hf_asr import LogMelWav2Vec2ForPreTraining
    from hf_asr.training import CTCTrainer

    from .runs import quiet_tiny_config

    trainable = []

    def record_then_stop(self, *args, **kwargs):
        trainable.append({p.requires_grad for p in self.model.wav2vec2.feature_encoder.parameters()})
        raise _Stop

    monkeypatch.setattr(CTCTrainer, "train", record_then_stop)
    argv = ["finetune", "--corpus", str(corpus_dir), "--output_dir", str(tmp_path / "ctc"), "--max_steps", "1"]
    argv += ["--use_cpu", "--report_to", "none", *options]
    if init_from:
        LogMelWav2Vec2ForPreTraining(quiet_tiny_config()).save_pretrained(tmp_path / "pretrained")
        argv += ["--init_from", str(tmp_path / "pretrained")]
    with pytest.raises(_Stop):
        main(argv)
    assert trainable == [{not frozen}]


def test_freeze_base_model_fraction_reaches_the_trainer_and_is_checked(corpus_dir, tmp_path, monkeypatch):
    from hf_asr.training import CTCTrainer
    from hf_asr.training.callbacks import FrozenBaseModelCallback

    fractions = []

    def record_then_stop(self, *args, **kwargs):
        fractions.extend(c.fraction for c in self.callback_handler.callbacks if isinstance(c, FrozenBaseModelCallback))
        raise _Stop

    monkeypatch.setattr(CTCTrainer, "train", record_then_stop)
    argv = ["finetune", "--corpus", str(corpus_dir), "--output_dir", str(tmp_path / "ctc"), "--max_steps", "1"]
    argv += ["--use_cpu", "--report_to", "none", "--freeze_base_model_fraction"]
    with pytest.raises(_Stop):
        main([*argv, "0.25"])
    assert fractions == [0.25]
    with pytest.raises(ValueError, match=r"--freeze_base_model_fraction.*1\.0"):
        main(["--debug", *argv, "1.0"])


@pytest.mark.parametrize(
    "reporter, check", [("tensorboard", "is_tensorboard_available"), ("wandb", "is_wandb_available")]
)
def test_a_reporter_that_is_not_installed_is_named_before_the_corpus_is_read(reporter, check, tmp_path, monkeypatch):
    from transformers.integrations import integration_utils

    monkeypatch.setattr(integration_utils, check, lambda: False)
    (tmp_path / "no-corpus").mkdir()  # an empty folder: no corpus to read
    argv = ["--debug", "finetune", "--corpus", str(tmp_path / "no-corpus"), "--output_dir", str(tmp_path / "out")]
    with pytest.raises(
        ValueError, match=f"--report_to {reporter} needs {reporter}, not installed: `pip install {reporter}"
    ):
        main([*argv, "--use_cpu", "--report_to", reporter])  # not the missing corpus: the reporter is checked first
    if reporter == "tensorboard":
        with pytest.raises(ValueError, match=r"or `pip install hf_asr\[tensorboard\]`"):
            main([*argv, "--use_cpu", "--report_to", reporter])
    monkeypatch.setattr(integration_utils, check, lambda: True)
    with pytest.raises(ValueError, match="no-corpus"):  # installed: the run goes on, to the corpus
        main([*argv, "--use_cpu", "--report_to", reporter])
