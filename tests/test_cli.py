"""`hf-asr`: a user error is one line `error: ...` on stderr naming the input, exit code 2; `--debug` shows the
traceback (the exception propagates)."""

from __future__ import annotations

import datasets
import pytest

from hf_asr.cli import error_line, main

from .training.synthetic import tone_corpus

TRAINING = ["--max_steps", "1", "--use_cpu", "--report_to", "none", "--per_device_train_batch_size", "4"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    audio = datasets.Audio(sampling_rate=16000)
    splits = {"train": tone_corpus(copies=1, seed=0), "validation": tone_corpus(copies=1, seed=3)}
    datasets.DatasetDict(splits).cast_column("audio", audio).save_to_disk(str(root / "corpus"))
    datasets.DatasetDict({"train": splits["train"]}).cast_column("audio", audio).save_to_disk(str(root / "train_only"))
    (root / "empty").mkdir()
    (root / "notes").mkdir()
    (root / "notes" / "readme.txt").write_text("no audio here\n")
    (root / "digits.txt").write_text("123 456\n7 89\n")
    return root


def run_cli(argv, capsys):
    """(exit code, stderr lines) of `hf-asr argv`."""
    code = main([str(part) for part in argv])
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.startswith("error:")]


def assert_one_error_line(argv, capsys, *names):
    code, lines = run_cli(argv, capsys)
    assert code == 2
    assert len(lines) == 1, lines
    for name in names:
        assert str(name) in lines[0], (name, lines[0])
    return lines[0]


def test_a_corpus_without_the_text_column(folders, capsys, tmp_path):
    argv = [
        "finetune",
        "--corpus",
        folders / "corpus",
        "--text_column",
        "sentence",
        "--output_dir",
        tmp_path,
        *TRAINING,
    ]
    assert_one_error_line(argv, capsys, folders / "corpus", "'sentence'", "its columns are ['audio', 'text']")


def test_a_split_named_differently_lists_the_splits(folders, capsys, tmp_path):
    argv = ["finetune", "--corpus", folders / "corpus", "--train_split", "training", "--output_dir", tmp_path]
    assert_one_error_line([*argv, *TRAINING], capsys, folders / "corpus", "'training'", "['train', 'validation']")
    argv = ["build-vocab", "--corpus", folders / "corpus", "--train-split", "training", "--out", tmp_path / "tok"]
    assert_one_error_line(argv, capsys, "'training'", "['train', 'validation']")


def test_no_validation_split_with_an_eval_strategy(folders, capsys, tmp_path):
    for command in ("finetune", "pretrain"):
        argv = [command, "--corpus", folders / "train_only", "--output_dir", tmp_path, *TRAINING]
        line = assert_one_error_line([*argv, "--eval_strategy", "steps", "--eval_steps", "1"], capsys, "'validation'")
        assert str(folders / "train_only") in line and "['train']" in line


def test_an_empty_or_non_audio_folder_as_corpus(folders, capsys, tmp_path):
    argv = ["finetune", "--corpus", folders / "empty", "--output_dir", tmp_path, *TRAINING]
    assert_one_error_line(argv, capsys, folders / "empty")
    assert_one_error_line(["pretrain", "--corpus", folders / "notes", "--output_dir", tmp_path, *TRAINING], capsys)


def test_an_lm_text_of_only_digits_when_digits_are_dropped(folders, capsys, tmp_path):
    argv = ["build-lm", "--text", folders / "digits.txt", "--out", tmp_path / "lm", "--memory", "64M"]
    assert_one_error_line([*argv, "--numbers", "drop"], capsys, folders / "digits.txt")


def test_a_model_folder_without_an_lm(folders, capsys, tmp_path):
    from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC, LogMelWav2Vec2Processor
    from hf_asr.data.vocab import build_tokenizer
    from hf_asr.hub import save_model_folder

    tokenizer = build_tokenizer(["a cab"])
    config = LogMelWav2Vec2Config.tiny(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    model_dir = tmp_path / "model"
    save_model_folder(
        LogMelWav2Vec2ForCTC(config), LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer), model_dir
    )
    argv = ["tune-lm", "--model", model_dir, "--dataset", folders / "corpus", "--split", "validation"]
    assert_one_error_line(argv, capsys, model_dir, "language_model")


@pytest.mark.parametrize("minutes", ["0", "-2", "nan"])
def test_a_demo_budget_that_is_not_positive(capsys, tmp_path, minutes):
    assert_one_error_line(["demo", "--minutes", minutes, "--out", tmp_path], capsys, "--minutes", minutes)
    assert not any(tmp_path.iterdir())  # refused before anything was written


def test_demo_settings_that_cannot_run(capsys, tmp_path):
    argv = ["demo", "--out", tmp_path, "--set", "finetune_max_steps=-1"]
    assert_one_error_line(argv, capsys, "finetune_max_steps", "-1")
    assert_one_error_line(["demo", "--out", tmp_path, "--set", "lm_alphas=[]"], capsys, "lm_alphas")
    assert_one_error_line(["demo", "--out", tmp_path, "--set", "corpus=5"], capsys, "corpus", "JSON object")
    argv = ["demo", "--out", tmp_path, "--set", 'model={"hiden_size": 8}']
    assert_one_error_line(argv, capsys, "unknown LogMelWav2Vec2Config field(s) ['hiden_size']")
    argv = ["demo", "--out", tmp_path, "--set", 'corpus={"train_sentence": 8}']
    assert_one_error_line(argv, capsys, "train_sentence", "CorpusRecipe fields")
    assert_one_error_line(["demo", "--out", tmp_path, "--set", "out=elsewhere"], capsys, "--set out=", "--out")


@pytest.mark.parametrize("max_steps", ["0", "-3"])
def test_a_step_count_that_trains_nothing(folders, capsys, tmp_path, max_steps):
    for command in ("finetune", "pretrain"):
        argv = [command, "--corpus", folders / "corpus", "--output_dir", tmp_path, "--max_steps", max_steps]
        assert_one_error_line([*argv, "--use_cpu", "--report_to", "none"], capsys, "max_steps", max_steps)


def test_make_corpus_refuses_a_noise_level_that_is_not_a_number(capsys, tmp_path):
    argv = ["make-corpus", "--out", tmp_path / "c", "--num-sentences", "3", "--voices-per-sentence", "1"]
    assert_one_error_line([*argv, "--noise-snr-db", "nan"], capsys, "--noise-snr-db", "nan")
    assert_one_error_line([*argv, "--num-workers", "0"], capsys, "--num-workers", "0")
    assert not (tmp_path / "c").exists()


def test_debug_shows_the_traceback_instead(folders, tmp_path):
    argv = ["finetune", "--corpus", str(folders / "corpus"), "--text_column", "sentence", "--output_dir", str(tmp_path)]
    with pytest.raises(ValueError, match="sentence"):
        main(["--debug", *argv, *TRAINING])


def test_an_error_of_several_lines_is_printed_as_one():
    assert error_line(ValueError("first\n  second\n\n")) == "error: first; second"
    assert error_line(FileNotFoundError()) == "error: FileNotFoundError"


@pytest.mark.parametrize(
    "command,option,value",
    [
        ("finetune", "--mask_time_prob", "2"),
        ("finetune", "--max_seconds_per_batch", "0"),
        ("pretrain", "--num_negatives", "0"),
        ("pretrain", "--mask_prob", "-0.5"),
        ("pretrain", "--max_audio_seconds", "-1"),
        ("pretrain", "--min_audio_seconds", "-1"),
        ("finetune", "--validation_fraction", "1"),
        ("finetune", "--max_train_samples", "0"),
        ("finetune", "--gradient_accumulation_steps", "0"),
    ],
)
def test_training_options_out_of_range(folders, capsys, tmp_path, command, option, value):
    argv = [command, "--corpus", folders / "corpus", "--output_dir", tmp_path, option, value, *TRAINING]
    assert_one_error_line(argv, capsys, option, value)


def test_training_files_and_folders_that_are_not_there_or_not_json(folders, capsys, tmp_path):
    (tmp_path / "vocab.json").write_text("{not json")
    common = ["--corpus", folders / "corpus", "--output_dir", tmp_path / "out", *TRAINING]
    vocab = tmp_path / "vocab.json"
    assert_one_error_line(["finetune", "--vocab", vocab, *common], capsys, "--vocab", vocab, "not valid JSON")
    assert_one_error_line(["pretrain", "--config", tmp_path / "none.json", *common], capsys, "--config", "none.json")
    assert_one_error_line(["pretrain", "--init_from", tmp_path / "nope", *common], capsys, "init_from", "nope")
