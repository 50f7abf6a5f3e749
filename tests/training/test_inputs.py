"""What `finetune`/`pretrain` refuse before training: missing or empty splits, step counts that train nothing,
transcripts that cannot fit their audio, and checkpoints without optimizer state."""

from __future__ import annotations

import logging
import os

import datasets
import pytest

from hf_asr.training import finetune, make_training_args, pretrain
from hf_asr.training.inputs import check_ctc_feasible, check_training_args, select_splits, training_splits

from .runs import quiet_tiny_config
from .synthetic import tone_corpus

FAST = dict(per_device_batch_size=4, logging_steps=1, device="cpu", disable_tqdm=True)


def tiny(processor):
    return quiet_tiny_config(vocab_size=len(processor.tokenizer), pad_token_id=processor.tokenizer.pad_token_id)


def with_texts(corpus: datasets.Dataset, texts: list[str]) -> datasets.Dataset:
    return corpus.remove_columns("text").add_column("text", texts)


@pytest.mark.parametrize(
    "corpus",
    [
        pytest.param(tone_corpus(copies=1).select([]), id="empty dataset"),
        pytest.param(datasets.DatasetDict({"train": tone_corpus(copies=1).select([])}), id="empty train split"),
    ],
)
def test_an_empty_training_split_is_named(processor, corpus, tmp_path):
    with pytest.raises(ValueError, match="the 'train' split of the corpus is empty: nothing to train on"):
        finetune(corpus, processor, output_dir=str(tmp_path), max_steps=1, config=tiny(processor), **FAST)
    with pytest.raises(ValueError, match="the 'train' split of the corpus is empty"):
        pretrain(corpus, quiet_tiny_config(), str(tmp_path), max_steps=1, **FAST)


def test_splits_are_named_with_the_splits_there(raw_corpus):
    corpus = datasets.DatasetDict({"train": raw_corpus, "dev": raw_corpus})
    with pytest.raises(
        ValueError, match=r"data/x has no split 'training' to train on; its splits are \['train', 'dev'\]"
    ):
        training_splits(corpus, "training", where="data/x")
    with pytest.raises(
        ValueError, match=r"evaluation is on .* no eval split 'validation'; its splits are \['train', 'dev'\]"
    ):
        training_splits(corpus, "train", "validation", needs_eval=True)
    with pytest.raises(ValueError, match="single dataset without splits, but evaluation is on"):
        training_splits(raw_corpus, needs_eval=True)
    assert training_splits(corpus, "train", "validation")[1] is None  # no evaluation asked: no eval split needed
    empty_dev = datasets.DatasetDict({"train": raw_corpus, "dev": raw_corpus.select([])})
    with pytest.raises(ValueError, match="the eval split 'dev' of the corpus is empty: nothing to evaluate on"):
        training_splits(empty_dev, "train", "dev", needs_eval=True)
    train, evaluation = training_splits(corpus, "train", "dev", needs_eval=True)
    assert len(train) == len(evaluation) == len(raw_corpus)


def _indexed(size: int) -> datasets.Dataset:
    return datasets.Dataset.from_dict({"index": list(range(size))})


def test_split_expressions_join_splits_under_their_given_names():
    corpus = datasets.DatasetDict({"train": _indexed(3), "validation": _indexed(2), "test": _indexed(1)})
    chosen = select_splits(corpus, "train+test", "validation")
    assert list(chosen) == ["train+test", "validation"]  # the other splits are left out
    assert list(chosen["train+test"]["index"]) == [0, 1, 2, 0]
    train, evaluation = training_splits(chosen, "train+test", "validation", needs_eval=True)
    assert (len(train), len(evaluation)) == (4, 2)
    with pytest.raises(ValueError, match=r"data/x has no split 'dev' \(in 'train\+dev'\); its splits are"):
        select_splits(corpus, "train+dev", where="data/x")
    with pytest.raises(ValueError, match=r"no eval split 'dev'; its splits are \['train', 'validation', 'test'\]"):
        select_splits(corpus, "train", "dev", needs_eval=True)  # all the splits there, not only those kept


def test_a_validation_fraction_is_carved_from_train_when_there_is_no_eval_split(caplog):
    corpus = datasets.DatasetDict({"train": _indexed(20)})
    with caplog.at_level(logging.INFO, logger="hf_asr.training.inputs"):
        chosen = select_splits(corpus, "train", "validation", validation_fraction=0.25, seed=3, where="data/x")
    assert "data/x has no split 'validation': 5 of the 20 'train' utterances (0.25, seed 3)" in caplog.text
    held_out, kept = list(chosen["validation"]["index"]), list(chosen["train"]["index"])
    assert len(held_out) == 5 and sorted(held_out + kept) == list(range(20))
    assert held_out == list(select_splits(corpus, "train", "validation", 0.25, seed=3)["validation"]["index"])
    assert held_out != list(select_splits(corpus, "train", "validation", 0.25, seed=4)["validation"]["index"])
    carved = select_splits(_indexed(20), "train", "validation", 0.25)  # a single Dataset gets its eval split too
    assert [len(carved[name]) for name in ("train", "validation")] == [15, 5]
    with_eval = datasets.DatasetDict({"train": _indexed(20), "validation": _indexed(2)})
    with caplog.at_level(logging.WARNING, logger="hf_asr.training.inputs"):
        assert len(select_splits(with_eval, validation_fraction=0.25)["validation"]) == 2
    assert "--validation_fraction is ignored" in caplog.text
    with pytest.raises(ValueError, match=r"validation_fraction must be a number in \(0, 1\), got 1"):
        select_splits(corpus, validation_fraction=1)


def test_max_samples_keep_the_first_utterances_of_train_and_eval():
    corpus = datasets.DatasetDict({"train": _indexed(10), "validation": _indexed(6)})
    chosen = select_splits(corpus, max_train_samples=4, max_eval_samples=20)
    assert list(chosen["train"]["index"]) == [0, 1, 2, 3] and len(chosen["validation"]) == 6
    assert list(select_splits(_indexed(10), max_train_samples=3)["index"]) == [0, 1, 2]
    with pytest.raises(ValueError, match="max_eval_samples must be an integer >= 1, got 0"):
        select_splits(corpus, max_eval_samples=0)


def test_evaluation_without_an_eval_split_is_refused_before_training(processor, raw_corpus, tmp_path):
    corpus = datasets.DatasetDict({"train": raw_corpus})
    with pytest.raises(ValueError, match="no eval split 'validation'"):
        finetune(corpus, processor, output_dir=str(tmp_path), max_steps=1, eval_steps=1, config=tiny(processor), **FAST)
    assert not os.path.exists(tmp_path / "model")


@pytest.mark.parametrize("max_steps", [0, -1, 2.5, None])
def test_a_step_count_that_trains_nothing_is_refused(processor, raw_corpus, tmp_path, max_steps):
    with pytest.raises(ValueError, match=f"max_steps must be a positive number of optimizer steps, got {max_steps}"):
        finetune(raw_corpus, processor, output_dir=str(tmp_path), max_steps=max_steps, **FAST)
    with pytest.raises(ValueError, match="max_steps must be a positive number"):
        pretrain(raw_corpus, quiet_tiny_config(), str(tmp_path), max_steps=max_steps, **FAST)


@pytest.mark.parametrize(
    "fields,message",
    [
        (dict(max_steps=0), "max_steps must be a positive number of optimizer steps, or -1 .* got 0"),
        (dict(max_steps=-5), "or -1 to train num_train_epochs epochs; got -5"),
        (dict(max_steps=-1, num_train_epochs=0), "max_steps is -1 .* num_train_epochs is 0"),
        (dict(gradient_accumulation_steps=0), "--gradient_accumulation_steps must be an integer >= 1, got 0"),
        (dict(per_device_train_batch_size=0), "--per_device_train_batch_size must be an integer >= 1, got 0"),
        (dict(learning_rate=float("nan")), "--learning_rate must be a number >= 0, got nan"),
    ],
)
def test_training_arguments_that_train_nothing_are_refused(tmp_path, fields, message):
    args = make_training_args(str(tmp_path), 1, report_to="none", use_cpu=True)
    for name, value in fields.items():
        setattr(args, name, value)
    with pytest.raises(ValueError, match=message):
        check_training_args(args)
    check_training_args(make_training_args(str(tmp_path), 1, use_cpu=True))  # a positive count is fine


def test_transcripts_that_fit_no_audio_stop_fine_tuning_before_it_starts(processor, tmp_path):
    corpus = tone_corpus(copies=1)
    corpus = with_texts(corpus, ["abcdef" * 30] * len(corpus))  # 180 characters in about a second of audio
    with pytest.raises(ValueError, match=r"8 of 8 utterances of the 'train' split .*utterance 0: 180 labels need 180 "):
        finetune(corpus, processor, output_dir=str(tmp_path), max_steps=1, config=tiny(processor), **FAST)
    assert not os.path.exists(tmp_path / "model")


def test_some_transcripts_too_long_give_a_warning_naming_them(processor, prepared, caplog):
    from hf_asr import LogMelWav2Vec2ForCTC

    too_long = [3, 4] * 200
    labels = [too_long if i in (2, 5) else row for i, row in enumerate(prepared["labels"])]
    dataset = prepared.remove_columns("labels").add_column("labels", labels)
    model = LogMelWav2Vec2ForCTC(tiny(processor))
    with caplog.at_level(logging.WARNING):
        check_ctc_feasible(dataset, processor.feature_extractor, model.logit_lengths)
    assert "2 of 16 utterances of the 'train' split" in caplog.text
    assert "utterance 2: 400 labels need 400 frames" in caplog.text and "utterance 5:" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        check_ctc_feasible(prepared, processor.feature_extractor, model.logit_lengths)
    assert caplog.text == ""


def test_resuming_from_a_checkpoint_without_optimizer_state_is_refused(processor, raw_corpus, tmp_path):
    out = str(tmp_path / "run")
    settings = dict(config=tiny(processor), save_steps=1, **FAST)
    finetune(raw_corpus, processor, output_dir=out, max_steps=1, **settings)
    checkpoint = os.path.join(out, "checkpoint-1")
    os.remove(os.path.join(checkpoint, "optimizer.pt"))
    with pytest.raises(
        FileNotFoundError, match=r"checkpoint .*checkpoint-1 has no optimizer.pt: resuming would restart"
    ):
        finetune(raw_corpus, processor, output_dir=out, max_steps=2, resume_from_checkpoint=True, **settings)


def test_a_checkpoint_moved_aside_by_a_killed_save_is_put_back_and_resumed(processor, raw_corpus, tmp_path):
    import json
    import subprocess
    import sys

    out = tmp_path / "run"
    settings = dict(config=tiny(processor), save_steps=1, **FAST)
    finetune(raw_corpus, processor, output_dir=str(out), max_steps=1, **settings)
    state_file = out / "checkpoint-1" / "trainer_state.json"
    state = json.loads(state_file.read_text())
    state["log_history"][0]["loss"] = 123.0  # a mark: only a run resumed from this checkpoint carries it on
    state_file.write_text(json.dumps(state))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (out / "checkpoint-1").rename(out / f".checkpoint-1.old-{int(dead.stdout)}-00ff")  # as a save killed mid-swap
    resumed = dict(output_dir=str(out), max_steps=2, resume_from_checkpoint=True)
    _, history = finetune(raw_corpus, processor, **resumed, **settings)
    assert [h["loss"] for h in history if "loss" in h][0] == 123.0
    assert {"checkpoint-1", "checkpoint-2"} <= {p.name for p in out.iterdir()}
    assert not [p.name for p in out.iterdir() if p.name.startswith(".checkpoint")]


def test_resuming_a_checkpoint_that_has_done_all_the_steps_or_epochs_asked_is_refused(tmp_path):
    import json

    from hf_asr.training.inputs import check_resumable

    checkpoint = tmp_path / "checkpoint-4"
    checkpoint.mkdir()
    for name in ("optimizer.pt", "scheduler.pt"):
        (checkpoint / name).write_bytes(b"")
    (checkpoint / "trainer_state.json").write_text(json.dumps({"global_step": 4, "epoch": 2.0}))

    def args(**settings):
        return make_training_args(str(tmp_path), max_steps=settings.pop("max_steps", -1), device="cpu", **settings)

    assert check_resumable(str(checkpoint), args(max_steps=5)) == 4
    assert check_resumable(str(checkpoint), args(num_train_epochs=3)) == 4
    for steps in (3, 4):
        with pytest.raises(ValueError, match=f"max_steps is {steps} but .*checkpoint-4, the .* is at step 4: nothing"):
            check_resumable(str(checkpoint), args(max_steps=steps))
    with pytest.raises(ValueError, match=r"num_train_epochs is 2 but .*checkpoint-4, the .* is at epoch 2 \(step 4\)"):
        check_resumable(str(checkpoint), args(num_train_epochs=2))
    (checkpoint / "trainer_state.json").unlink()
    with pytest.raises(FileNotFoundError, match="checkpoint-4 has no trainer_state.json"):
        check_resumable(str(checkpoint), args(max_steps=5))
