"""The demo end to end at a toy size: every artefact the interface promises is written and consistent."""

import json

import pytest
from PIL import Image

from hf_asr.data.speakers import voice_family
from hf_asr.demo.commands import parse_overrides
from hf_asr.demo.run import run_demo
from hf_asr.demo.settings import demo_settings, resolve_preset
from hf_asr.metrics import error_rates

REPORT_KEYS = {
    "wer_greedy",
    "wer_lm",
    "cer_greedy",
    "cer_lm",
    "n_test_utterances",
    "pretrain_steps",
    "finetune_steps",
    "seconds",
    "train_voices",
    "test_voices",
    "test_voices_unseen",
    "open_vocabulary",
    "lm_vocabulary_size",
    "augmentation",
    "per_voice",
    "seen_voices",
}
TOY_CORPUS = dict(
    train_sentences=30,
    unlabelled_sentences=10,
    validation_sentences=4,
    test_sentences=6,
    train_speakers=8,
    heldout_speakers=3,
)


def test_demo_end_to_end_at_toy_size(tmp_path):
    word_list = tmp_path / "words"
    word_list.write_text("Xylophone\nquokka's\n")
    settings = demo_settings(
        "cpu",
        "cpu",
        out=str(tmp_path / "demo"),
        minutes=0.75,
        reserve_seconds=15,
        corpus=TOY_CORPUS,
        pretrain_share=0.15,
        eval_steps=5,
        lm_word_list=str(word_list),
    )
    report = run_demo(settings)
    out = tmp_path / "demo"
    saved = json.loads((out / "report.json").read_text())
    assert REPORT_KEYS <= set(saved)
    assert saved["pretrain_steps"] >= 1 and saved["finetune_steps"] >= 1
    assert saved["augmentation"] == settings.augmentation().to_json()  # the default feature steps, recorded
    assert saved["augmentation"]["mel_warp"] != [1.0, 1.0]
    # Unseen voices by construction: no engine voice of the test split speaks in train.
    assert saved["test_voices_unseen"] is True and not set(saved["train_voices"]) & set(saved["test_voices"])
    assert saved["n_test_utterances"] == report["corpus"]["test"] == TOY_CORPUS["test_sentences"]
    # The headline numbers are those of the test examples (recomputed from the saved transcripts' scorer).
    examples = saved["examples"]
    assert len(examples) == min(8, saved["n_test_utterances"])
    if len(examples) == saved["n_test_utterances"]:
        rescored = error_rates([e["lm"] for e in examples], [e["reference"] for e in examples])
        assert saved["wer_lm"] == pytest.approx(rescored["wer"])
    per_voice = saved["per_voice"]
    assert sum(r["n_utterances"] for r in per_voice if not r["seen_in_train"]) == saved["n_test_utterances"]
    speakers = json.loads((out / "corpus" / "corpus_info.json").read_text())["voices"]
    for split, seen in (("test", False), ("test_seen_voices", True)):
        rows = {r["voice"] for r in per_voice if r["seen_in_train"] is seen}
        assert rows == {voice_family(speaker) for speaker in speakers[split]}
    assert saved["lm_vocabulary_size"] > 1000  # the LM covers the whole open-vocabulary text, not the corpus
    assert saved["lm"]["word_list"] == str(word_list)  # and the words of the word list
    unigrams = (out / "model" / "language_model" / "unigrams.txt").read_text().split()
    assert {"xylophone", "quokka's"} <= set(unigrams)
    markdown = (out / "report.md").read_text()
    assert "| beam search + KenLM |" in markdown and "## Per voice" in markdown
    for name in ("training_curves", "spectrogram_posteriors", "codebook_usage"):
        with Image.open(out / "plots" / f"{name}.png") as image:
            assert image.size[0] > 500 and image.size[1] > 200
    model_dir = out / "model"
    for name in ("config.json", "model.safetensors", "README.md", "model.py", "processor_config.json", "vocab.json"):
        assert (model_dir / name).exists(), name
    assert (model_dir / "language_model").is_dir()
    assert "## Per voice" in (model_dir / "README.md").read_text()


def test_demo_settings_presets_and_overrides():
    assert resolve_preset("auto", "cpu") == "cpu"
    gpu = demo_settings("gpu", "cpu", corpus={"test_sentences": 7})
    cpu = demo_settings("cpu", "cpu")
    assert gpu.model_config().hidden_size > cpu.model_config().hidden_size
    assert gpu.recipe().train_sentences > cpu.recipe().train_sentences and gpu.recipe().test_sentences == 7
    with pytest.raises(ValueError, match="unknown demo setting"):
        demo_settings("cpu", "cpu", learning_rate=1.0)
    with pytest.raises(ValueError, match="preset"):
        resolve_preset("tpu", "cpu")
    assert parse_overrides(["pretrain_share=0", "out=runs/x", 'model={"num_hidden_layers": 2}']) == {
        "pretrain_share": 0,
        "out": "runs/x",
        "model": {"num_hidden_layers": 2},
    }
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_overrides(["pretrain_share"])


def test_demo_rejects_a_budget_that_is_not_positive(tmp_path):
    for minutes in (0, -3):
        with pytest.raises(ValueError, match="--minutes"):
            run_demo(demo_settings("cpu", "cpu", out=str(tmp_path), minutes=minutes))


def test_demo_augment_names_the_steps_to_use():
    default = demo_settings("cpu", "cpu").augmentation()
    assert default.changes_features and not default.changes_waveform  # prepared features stay usable
    assert demo_settings("cpu", "cpu", augment=False).augmentation() is None
    assert demo_settings("cpu", "cpu", augment=True).augmentation().changes_waveform
    chosen = demo_settings("cpu", "cpu", augment={"mel_warp": [0.9, 1.1]}).augmentation()
    assert chosen.mel_warp == (0.9, 1.1) and not chosen.changes_waveform and chosen.time_stretch == (1.0, 1.0)
    with pytest.raises(TypeError, match="AugmentationSettings fields"):
        demo_settings("cpu", "cpu", augment={"mel_wrap": [0.9, 1.1]})
    with pytest.raises(ValueError, match="mel_warp"):
        demo_settings("cpu", "cpu", augment={"mel_warp": [1.1]})
    with pytest.raises(TypeError, match="augment must be"):
        demo_settings("cpu", "cpu", augment="yes")


def test_demo_bf16_without_cuda_trains_on_the_cpu(tmp_path, monkeypatch):
    # TrainingArguments refuses bf16 on a machine without CUDA unless it is told to use the CPU.
    from hf_asr.demo.stages import training_device
    from hf_asr.training.recipes import make_training_args

    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    settings = demo_settings("cpu", "auto", bf16=True)
    assert training_device(settings) == "cpu"
    args = make_training_args(str(tmp_path), 2, 1, 1e-3, device=training_device(settings), bf16=True)
    assert args.bf16 and args.use_cpu
    assert training_device(demo_settings("cpu", "auto")) is None  # fp32: the Trainer picks the device


@pytest.mark.parametrize("pretrained, expected", [(object(), 0.3), (None, 0.0)])
def test_the_head_trains_alone_first_only_on_top_of_a_pretrained_encoder(pretrained, expected, tmp_path, monkeypatch):
    import datasets
    import torch

    from hf_asr.demo import stages

    asked = []

    def record(*args, **kwargs):
        asked.append(kwargs["freeze_base_model_fraction"])
        return torch.nn.Linear(1, 1), []

    monkeypatch.setattr(stages, "finetune", record)
    split = datasets.Dataset.from_dict({"text": ["a"]})
    data = stages.CorpusStage(datasets.DatasetDict(train=split, validation=split), {}, None, tmp_path)
    settings = demo_settings("cpu", "cpu", finetune_freeze_base_fraction=0.3)
    stages.finetuning_stage(settings, tmp_path, data, pretrained, seconds=10.0)
    assert asked == [expected]
    with pytest.raises(ValueError, match="finetune_freeze_base_fraction"):
        demo_settings("cpu", "cpu", finetune_freeze_base_fraction=1.0)


def test_alpha_beta_are_tuned_at_the_test_beam_unless_told_otherwise():
    assert demo_settings("cpu", "cpu").lm_tuning_beam_width() == 64
    assert demo_settings("cpu", "cpu", beam_width=32).lm_tuning_beam_width() == 32
    assert demo_settings("cpu", "cpu", beam_width=32, tuning_beam_width=8).lm_tuning_beam_width() == 8
    with pytest.raises(ValueError, match="tuning_beam_width"):
        demo_settings("cpu", "cpu", tuning_beam_width=0)


def test_report_names_the_engines_and_the_sentence_source_used():
    from hf_asr.demo.report import _corpus_lines

    report = {
        "corpus": {"train": 10, "unlabelled": 4, "hours": {"train": 0.1}},
        "settings": {"corpus": {"sentence_source": "prose.txt"}, "preset": "cpu", "minutes": 1, "seed": 0},
        "train_voices": ["espeak-ng:en-us+m1:s1.0:p1.0", "festival:ked_diphone:s1.0:p1.0"],
        "test_voices": ["flite:rms:s1.0:p1.0"],
        "n_test_utterances": 3,
        "test_voices_unseen": True,
        "lm": {"order": 4},
        "lm_vocabulary_size": 50,
        "augmentation": None,
        "pretrain_steps": 1,
        "finetune_steps": 2,
    }
    line = _corpus_lines(report)[0]
    assert "sentences of prose.txt), spoken by espeak-ng, festival and flite: 10 labelled" in line
