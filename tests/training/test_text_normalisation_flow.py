"""One text normaliser from vocabulary to references: transcripts with capitals, digits and punctuation go through
`hf-asr build-vocab`, `hf-asr finetune --vocab` and evaluation, and every step normalises them the same way."""

from __future__ import annotations

import json

import datasets
import pytest

from hf_asr.cli import main
from hf_asr.decoding.evaluation import evaluate_ctc
from hf_asr.modeling.model import LogMelWav2Vec2ForCTC
from hf_asr.modeling.processing import LogMelWav2Vec2Processor
from hf_asr.modeling.text_normalizer import NORMALIZER_FILE, TextNormalizer

from .synthetic import tone_corpus

RAW = ["The CAT sat 2 times.", "A Dog, 21st!", "IN 1999 WE RAN", "go 3 go"]


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus") / "cased"
    corpus = datasets.DatasetDict(
        {"train": tone_corpus(RAW, copies=2, seed=0), "validation": tone_corpus(RAW, copies=1, seed=3)}
    )
    corpus.cast_column("audio", datasets.Audio(sampling_rate=16000)).save_to_disk(str(folder))
    return folder


def test_vocabulary_labels_and_references_share_one_normaliser(corpus_dir, tmp_path, capsys):
    vocab_dir, out = tmp_path / "vocab", tmp_path / "ctc"
    assert main(["build-vocab", "--corpus", str(corpus_dir), "--out", str(vocab_dir)]) == 0
    assert "removed from train: '.' x2, ',' x2, '!' x2" in capsys.readouterr().err
    vocab = json.loads((vocab_dir / "vocab.json").read_text())
    letters = {token for token in vocab if len(token) == 1} - {"|"}
    normalizer = TextNormalizer()
    spoken = {c for text in RAW for c in normalizer(text)} - {" "}
    assert letters == spoken  # lowercase, and the letters of the spoken numbers ("two", "twenty first", ...)
    assert TextNormalizer.from_pretrained(vocab_dir) == normalizer

    common = ["--corpus", str(corpus_dir), "--vocab", str(vocab_dir / "vocab.json"), "--output_dir", str(out)]
    common += ["--max_steps", "2", "--per_device_train_batch_size", "4", "--use_cpu", "--report_to", "none"]
    common += ["--eval_strategy", "no", "--save_strategy", "no", "--auto_resume", "false"]
    # Labels without digits would not match this vocabulary: refused, naming the vocabulary and both settings.
    assert main(["finetune", *common, "--numbers", "drop"]) != 0
    error = capsys.readouterr().err
    assert f"{vocab_dir / 'vocab.json'} was made with TextNormalizer(numbers='words'" in error
    assert "the options ask for {'numbers': 'drop'}" in error
    assert main(["finetune", *common]) == 0

    processor = LogMelWav2Vec2Processor.from_pretrained(out / "model")
    assert json.loads((out / "model" / NORMALIZER_FILE).read_text()) == normalizer.to_dict()
    tokenizer = processor.tokenizer
    for raw in RAW:  # labels: no <unk>, and they spell the normalised text
        labels = processor(text=raw, unknown_characters="raise")
        assert tokenizer.unk_token_id not in labels
        assert tokenizer.decode(labels, group_tokens=False) == normalizer(raw)
    model = LogMelWav2Vec2ForCTC.from_pretrained(out / "model")
    validation = datasets.load_from_disk(str(corpus_dir))["validation"]
    evaluation = evaluate_ctc(model, processor, validation, num_processes=1, progress=False)
    assert evaluation.references == [normalizer(text) for text in RAW]
