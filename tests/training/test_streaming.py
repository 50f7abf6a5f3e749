"""Training on streamed corpora (`datasets.IterableDataset`): preparation as the stream is read (each example decoded
once), duration batches from the stream, evaluation of the eval split, resuming, `--streaming` on the command
line, and two processes (gloo) each training on its own share of the stream for the same number of steps."""

from __future__ import annotations

import itertools
import json
import shutil
import warnings

import datasets
import numpy as np
import pytest
from transformers import TrainerCallback, TrainingArguments

from hf_asr.cli import main
from hf_asr.data import audio as audio_module
from hf_asr.data import loading
from hf_asr.data.features import prepare_dataset
from hf_asr.data.loading import load_corpus
from hf_asr.data.text import TranscriptTypeError, UnknownCharactersError, UnknownCharactersWarning
from hf_asr.training import CTCTrainer, DataCollatorCTC, finetune, make_training_args

from .launching import accelerate_launch
from .runs import losses, quiet_tiny_config, run
from .synthetic import SAMPLING_RATE, SENTENCES, tone_corpus, tone_waveform

TRAIN_SIZE, EVAL_SIZE = 16, 5


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stream") / "tones"
    corpus = datasets.DatasetDict(
        {"train": tone_corpus(copies=2, seed=0), "validation": tone_corpus(SENTENCES[:EVAL_SIZE], copies=1, seed=3)}
    )
    corpus.cast_column("audio", datasets.Audio(sampling_rate=SAMPLING_RATE)).save_to_disk(str(folder))
    return folder


@pytest.fixture
def stream(corpus_dir):
    return load_corpus(corpus_dir, streaming=True)


# ---- preparation -----------------------------------------------------------------------------------------------
def test_a_prepared_stream_holds_what_the_saved_corpus_gives(corpus_dir, stream, processor):
    saved = prepare_dataset(load_corpus(corpus_dir), processor.feature_extractor, processor.tokenizer)["train"]
    streamed = prepare_dataset(stream, processor.feature_extractor, processor.tokenizer)
    assert isinstance(streamed, datasets.IterableDatasetDict) and set(streamed) == {"train", "validation"}
    rows = list(streamed["train"])
    assert len(rows) == TRAIN_SIZE and sorted(rows[0]) == ["duration", "input_features", "labels"]
    for row, expected in zip(rows, saved.with_format("numpy")):
        np.testing.assert_allclose(row["input_features"], expected["input_features"], atol=1e-5)
        assert row["duration"] == pytest.approx(float(expected["duration"]))
        assert row["labels"] == expected["labels"].tolist()
    kept = prepare_dataset(stream["train"], processor.feature_extractor, max_seconds=min(r["duration"] for r in rows))
    assert 0 < len(list(kept)) < TRAIN_SIZE  # max_seconds drops the longer ones
    with pytest.raises(ValueError, match="preprocessing_num_workers"):
        prepare_dataset(stream, processor.feature_extractor, num_proc=2)


def test_raw_audio_for_the_collator_is_decoded_once(stream, processor, monkeypatch):
    decodes = []
    for module, name in ((loading, "decode_with_datasets"), (audio_module, "read_audio")):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _f=original, **k: decodes.append(1) or _f(*a, **k))
    prepared = prepare_dataset(
        stream["train"], processor.feature_extractor, processor.tokenizer, precompute_features=False
    )
    rows = list(prepared)
    assert sorted(rows[0]) == ["audio", "duration", "labels"]
    assert rows[0]["duration"] == len(rows[0]["audio"]["array"]) / SAMPLING_RATE
    batch = DataCollatorCTC(processor)(rows[:4])
    assert batch["input_features"].shape[0] == 4
    assert len(decodes) == TRAIN_SIZE  # once per example: while preparing, never again in the collator


def _text_stream(texts):
    rng = np.random.default_rng(0)
    audio = [tone_waveform("a cab", rng) for _ in texts]
    return datasets.Dataset.from_dict({"audio": audio, "text": texts}).to_iterable_dataset()


def test_transcripts_are_checked_as_they_stream_by(processor):
    stream = _text_stream(["a cab", "xa cab", "x", "a é", None])
    prepared = prepare_dataset(stream, processor.feature_extractor, processor.tokenizer)
    rows = iter(prepared)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(4):
            next(rows)
    messages = [str(w.message) for w in caught if issubclass(w.category, UnknownCharactersWarning)]
    assert len(messages) == 2  # 'x' once (samples 1 and 2), then 'é'
    assert "'x'" in messages[0] and "first in sample 1" in messages[0] and "'é'" in messages[1]
    with pytest.raises(TranscriptTypeError, match="sample 4 in column 'text' is None"):
        next(rows)
    strict = prepare_dataset(stream, processor.feature_extractor, processor.tokenizer, unknown_characters="raise")
    with pytest.raises(UnknownCharactersError, match="first in sample 1"):
        list(strict)


# ---- batches -----------------------------------------------------------------------------------------------------
def _trainer(stream, processor, tmp_path, per_device_batch_size, **settings):
    model = make_ctc_model(processor)
    args = make_training_args(str(tmp_path), 4, per_device_batch_size, device="cpu", disable_tqdm=True)
    prepared = prepare_dataset(stream, processor.feature_extractor, processor.tokenizer)
    return CTCTrainer(
        model=model, args=args, data_collator=DataCollatorCTC(processor), train_dataset=prepared, **settings
    )


def make_ctc_model(processor):
    from hf_asr import LogMelWav2Vec2ForCTC

    tokenizer = processor.tokenizer
    return LogMelWav2Vec2ForCTC(quiet_tiny_config(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id))


def test_the_train_loader_reads_duration_batches_from_the_stream_endlessly(stream, processor, tmp_path):
    bound = 3.0
    trainer = _trainer(stream["train"], processor, tmp_path, 2, max_seconds_per_batch=bound, shuffle_buffer_size=8)
    hop = processor.feature_extractor.hop_length / SAMPLING_RATE
    sizes = []
    for batch in itertools.islice(trainer.get_train_dataloader(), 20):  # more batches than one pass gives
        frames = batch["attention_mask"].sum(-1)
        assert len(frames) * (int(frames.max()) - 1) * hop <= bound  # mel frames = 1 + samples // hop
        sizes.append(len(frames))
    assert len(sizes) == 20 and max(sizes) > 2  # by seconds, not the per-device batch size of 2
    fixed = _trainer(stream["train"], processor, tmp_path, 3)
    assert [len(b["labels"]) for b in itertools.islice(fixed.get_train_dataloader(), 7)] == [3, 3, 3, 3, 3, 1, 3]


def test_finetune_on_a_stream_trains_max_steps_and_evaluates_the_eval_split(stream, processor, tmp_path):
    _, history = finetune(
        stream,
        processor,
        None,
        str(tmp_path),
        max_steps=4,
        max_seconds_per_batch=3.0,
        eval_steps=4,
        logging_steps=1,
        device="cpu",
        config=quiet_tiny_config(),
        disable_tqdm=True,
    )
    assert sorted(losses(history)) == [1, 2, 3, 4]
    evaluations = [h for h in history if "eval_wer" in h]
    assert len(evaluations) == 1 and 0 <= evaluations[0]["eval_cer"] and np.isfinite(evaluations[0]["eval_loss"])
    assert (tmp_path / "model" / "model.safetensors").exists()


def test_a_stream_needs_max_steps(stream, processor, tmp_path):
    args = TrainingArguments(str(tmp_path), max_steps=-1, num_train_epochs=1, use_cpu=True, report_to="none")
    with pytest.raises(ValueError, match="streamed corpus has no length: give --max_steps"):
        finetune(stream, processor, None, training_args=args)


# ---- resuming ----------------------------------------------------------------------------------------------------
class StopAt(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_training_stop = True


@pytest.mark.parametrize("mode", ["finetune", "pretrain"])
def test_a_resumed_stream_run_logs_the_losses_of_an_unbroken_one(mode, stream, tmp_path):
    # 17 batches skipped: more than the collator keeps states for, so its state must come from reading them again.
    max_steps, stop = 18, 17
    settings = dict(
        corpus=stream if mode == "finetune" else stream["train"],
        max_seconds_per_batch=3.0,
        shuffle_buffer_size=8,
        save_steps=stop,
    )
    _, unbroken = run(mode, str(tmp_path / "unbroken"), max_steps, **settings)
    out = tmp_path / "stopped"
    run(mode, str(out), max_steps, callbacks=[StopAt(stop)], **settings)
    assert (out / f"checkpoint-{stop}").is_dir() and not (out / f"checkpoint-{max_steps}").exists()
    shutil.copytree(out, tmp_path / "again")

    _, resumed = run(mode, str(out), max_steps, resume="auto", **settings)
    expected, got = losses(unbroken), losses(resumed)
    assert sorted(got) == list(range(1, max_steps + 1))
    for step in range(1, max_steps + 1):
        assert got[step] == pytest.approx(expected[step], abs=1e-6, rel=0), (step, got, expected)

    # ignore_data_skip: the stream starts over instead of being read up to the checkpoint; training still resumes.
    _, restarted = run(mode, str(tmp_path / "again"), max_steps, resume="auto", ignore_data_skip=True, **settings)
    assert sorted(losses(restarted)) == list(range(1, max_steps + 1))


# ---- command line ------------------------------------------------------------------------------------------------
def _finetune_argv(corpus_dir, out, *extra):
    return ["finetune", "--streaming", "--corpus", str(corpus_dir), "--output_dir", str(out), "--use_cpu",
            "--report_to", "none", "--logging_steps", "1", "--disable_tqdm", "true", *extra]  # fmt: skip


def test_streaming_from_the_cli(corpus_dir, tmp_path, capsys):
    from hf_asr.data.vocab import build_vocab

    vocab = tmp_path / "vocab.json"
    vocab.write_text(json.dumps(build_vocab(SENTENCES)))
    out = tmp_path / "ctc"
    argv = _finetune_argv(corpus_dir, out, "--vocab", str(vocab), "--max_steps", "3", "--max_seconds_per_batch",
                          "3", "--eval_strategy", "steps", "--eval_steps", "3", "--save_steps", "3")  # fmt: skip
    assert main(argv) == 0
    state = json.loads((out / "checkpoint-3" / "trainer_state.json").read_text())
    assert [h["step"] for h in state["log_history"] if "loss" in h] == [1, 2, 3]
    assert any("eval_wer" in h for h in state["log_history"])

    pretrain = ["pretrain", "--streaming", "--corpus", str(corpus_dir), "--output_dir", str(tmp_path / "pre"),
                "--max_steps", "2", "--use_cpu", "--report_to", "none", "--eval_strategy", "no"]  # fmt: skip
    assert main(pretrain) == 0 and (tmp_path / "pre" / "model" / "model.safetensors").exists()

    capsys.readouterr()
    for extra, named in (
        (["--vocab", str(vocab)], "--max_steps"),
        (["--max_steps", "2"], "--vocab or --processor"),
        (["--vocab", str(vocab), "--max_steps", "2", "--preprocessing_num_workers", "2"], "--dataloader_num_workers"),
    ):
        assert main(_finetune_argv(corpus_dir, tmp_path / "bad", "--eval_strategy", "no", *extra)) == 2
        assert named in capsys.readouterr().err


# ---- two processes -----------------------------------------------------------------------------------------------
def test_two_processes_train_on_their_own_shares_for_the_same_steps(corpus_dir, processor, tmp_path):
    two_processes = ["--multi_gpu", "--num_processes", "2", "--num_machines", "1"]
    process = accelerate_launch(
        [*two_processes, "--mixed_precision", "no", "--dynamo_backend", "no"],
        "tests.training.stream_ddp_script",
        str(corpus_dir),
        str(tmp_path),
    )
    assert process.returncode == 0, process.stderr[-4000:]
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in reports] == [2, 2]
    assert reports[0]["steps"] == reports[1]["steps"] == [1, 2, 3, 4, 5, 6]
    # Each process' first pass over its share: half the train split each (16 shards, 8 per process), no
    # utterance on both; later passes deal the shards out anew (datasets reshuffles them with the epoch).
    first, second = (r["trained_on"][: TRAIN_SIZE // 2] for r in reports)
    assert len(set(first)) == len(set(second)) == TRAIN_SIZE // 2
    assert not set(first) & set(second) and len(set(first) | set(second)) == TRAIN_SIZE
    scores = [
        [{k: v for k, v in h.items() if k in ("eval_loss", "eval_wer", "eval_cer")} for h in r["eval"]] for r in reports
    ]
    assert scores[0] == scores[1] and len(scores[0]) == 1  # gathered: the same scores on both
    assert [r["predicted"] for r in reports] == [EVAL_SIZE, EVAL_SIZE]  # every eval utterance once
