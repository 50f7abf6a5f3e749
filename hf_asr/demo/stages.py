"""The demo's stages, each a function of what the earlier ones produced (icefall-style staged recipe).

corpus -> pretraining -> fine-tuning -> language model -> evaluation -> model folder -> pipeline -> plots.
`run.run_demo` calls them in order, times each, and gives each training stage its share of the time left.
"""

from __future__ import annotations

import dataclasses
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import soundfile
import torch

from ..data.audio import audio_array
from ..data.augmentation import needs_raw_audio
from ..data.features import cached_datasets, prepare_dataset
from ..data.sentences import load_word_list
from ..data.speaker_corpus import build_speaker_corpus, corpus_info, read_lm_text
from ..data.speakers import speaker_voice, voice_family
from ..data.vocab import build_tokenizer
from ..decoding.evaluation import CTCEvaluation, evaluate_ctc
from ..decoding.lm_building import build_lm, read_unigrams
from ..decoding.tuning import TuningResult, tune_alpha_beta
from ..hub import save_model_folder
from ..modeling.feature_extraction import LogMelFeatureExtractor
from ..modeling.lm_decoder import LMDecoder
from ..modeling.model import LogMelWav2Vec2ForCTC, LogMelWav2Vec2ForPreTraining
from ..modeling.processing import LogMelWav2Vec2Processor
from ..training.recipes import finetune, pretrain
from ..training.time_budget import TimeBudget
from .settings import DemoSettings

EVALUATION_SPLITS = ("test", "test_seen_voices")


@dataclass
class CorpusStage:
    """The corpus, its info, the processor and, when training without waveform augmentation, the prepared features of
    train / validation (with labels) and unlabelled, computed once and shared by pretraining and fine-tuning."""

    corpus: datasets.DatasetDict
    info: dict[str, Any]
    processor: LogMelWav2Vec2Processor
    folder: Path
    prepared: datasets.DatasetDict | None = None


def corpus_stage(settings: DemoSettings, out: Path) -> CorpusStage:
    """Speak (or reuse) the corpus; the character vocabulary of its train transcripts; the processor; the
    log-mel features (reused too when corpus, extractor and vocabulary are the same) unless waveform augmentation
    needs the audio."""
    folder = out / "corpus"
    corpus = build_speaker_corpus(folder, settings.recipe(), num_workers=settings.num_workers)
    # Every English letter is a label even if no train sentence holds it (a toy corpus may lack "x"): an open
    # vocabulary's validation and test sentences may.
    train_texts = corpus["train"].select_columns(["text"])["text"]
    tokenizer = build_tokenizer([*train_texts, string.ascii_lowercase], out_dir=out / "vocab")
    processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer)
    data = CorpusStage(corpus, corpus_info(folder), processor, folder)
    if not needs_raw_audio(settings.augmentation()):
        data.prepared = _prepared_features(settings, out, data)
    return data


def _prepared_features(settings: DemoSettings, out: Path, data: CorpusStage) -> datasets.DatasetDict:
    extractor, tokenizer = data.processor.feature_extractor, data.processor.tokenizer
    normalizer = data.processor.text_normalizer
    key = {
        "recipe": data.info["recipe"],
        "feature_extractor": extractor.to_dict(),
        "vocab": tokenizer.get_vocab(),
        "text_normalizer": normalizer.to_dict(),
    }

    def build() -> datasets.DatasetDict:
        # One process: torch's threads already spread the mel over the cores; on 2 cores, 2 processes of 2 threads
        # each took 2.8x as long (5,000 utterances: 56 s vs 20 s).
        prepared = {
            name: prepare_dataset(data.corpus[name], extractor, tokenizer, normalize_text=normalizer)
            for name in ("train", "validation")
        }
        if "unlabelled" in data.corpus:
            prepared["unlabelled"] = prepare_dataset(data.corpus["unlabelled"], extractor)
        return datasets.DatasetDict(prepared)

    return cached_datasets(out / "features", key, build)


def with_train_subset(data: CorpusStage, indices: Any) -> CorpusStage:
    """`data` whose labelled train split (audio and prepared features alike) holds only the rows `indices`."""
    corpus = datasets.DatasetDict({**data.corpus, "train": data.corpus["train"].select(indices)})
    prepared = None
    if data.prepared is not None:
        prepared = datasets.DatasetDict({**data.prepared, "train": data.prepared["train"].select(indices)})
    return dataclasses.replace(data, corpus=corpus, prepared=prepared)


def labelled_train(data: CorpusStage) -> datasets.Dataset:
    """The train split fine-tuning reads: prepared features when there are some, else the audio."""
    return (data.prepared if data.prepared is not None else data.corpus)["train"]


def _run_options(settings: DemoSettings, seconds: float) -> dict[str, Any]:
    """What both training stages pass alike; the time budget starts now, so data preparation is paid from it."""
    budget = TimeBudget(seconds, warmup=settings.warmup)
    budget.start()
    return dict(
        logging_steps=10,
        seed=settings.seed,
        device=training_device(settings),
        augmentation=settings.augmentation(),
        time_budget=budget,
        dataloader_num_workers=settings.dataloader_workers,
        bf16=settings.bf16,
    )


def training_device(settings: DemoSettings) -> str | None:
    if settings.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but torch sees no CUDA device")
    if settings.device == "cpu" or (settings.bf16 and not torch.cuda.is_available()):
        return "cpu"  # bf16 without CUDA: TrainingArguments refuses it unless told to use the CPU
    return None  # the Trainer takes the accelerator when there is one


def pretraining_stage(
    settings: DemoSettings, out: Path, data: CorpusStage, seconds: float
) -> tuple[LogMelWav2Vec2ForPreTraining | None, list[dict[str, Any]]]:
    """Contrastive pretraining on the unlabelled pool plus the train audio, transcripts dropped; None when the
    pretraining share is 0."""
    if seconds <= 0:
        return None, []
    source = data.prepared if data.prepared is not None else data.corpus
    columns = ["input_features" if data.prepared is not None else "audio", "duration"]
    pool = [source[name].select_columns(columns) for name in ("train", "unlabelled") if name in source]
    model, log = pretrain(
        datasets.concatenate_datasets(pool),
        settings.model_config(),
        str(out / "pretrain"),
        settings.pretrain_max_steps,
        feature_extractor=data.processor.feature_extractor,
        max_seconds_per_batch=settings.pretrain_seconds_per_batch,
        learning_rate=settings.pretrain_learning_rate,
        eval_split=None,
        **_run_options(settings, seconds),
    )
    return model, log


def finetuning_stage(
    settings: DemoSettings, out: Path, data: CorpusStage, pretrained: Any, seconds: float
) -> tuple[LogMelWav2Vec2ForCTC, list[dict[str, Any]]]:
    """CTC fine-tuning on the labelled train split (from the pretrained encoder when there is one: then the CTC head
    trains alone for the first `finetune_freeze_base_fraction` of the time)."""
    source = data.prepared if data.prepared is not None else data.corpus
    labelled = datasets.DatasetDict({"train": labelled_train(data), "validation": source["validation"]})
    model, log = finetune(
        labelled,
        data.processor,
        pretrained,
        str(out / "finetune"),
        settings.finetune_max_steps,
        config=settings.model_config(),
        freeze_feature_encoder=False,
        # A head-only first stage reads a pretrained encoder; a random one would only lose the time.
        freeze_base_model_fraction=settings.finetune_freeze_base_fraction if pretrained is not None else 0.0,
        mask_time_prob=settings.finetune_mask_time_prob,
        max_seconds_per_batch=settings.finetune_seconds_per_batch,
        learning_rate=settings.finetune_learning_rate,
        eval_steps=settings.eval_steps,
        **_run_options(settings, seconds),
    )
    model.eval()
    return model, log


def language_model_stage(
    settings: DemoSettings, out: Path, data: CorpusStage, model: Any
) -> tuple[LMDecoder, TuningResult, int]:
    """KenLM on the corpus' LM text (no validation or test sentence) and the words of `lm_word_list`; α/β tuned on
    validation. Returns the decoder, the tuning result and the LM's vocabulary size."""
    lm_text = read_lm_text(data.folder, settings.lm_max_words)
    if settings.lm_word_list:
        lm_text += load_word_list(settings.lm_word_list)
    lm_files = build_lm(lm_text, out / "lm", order=settings.lm_order)
    unigrams = read_unigrams(lm_files.unigrams)
    decoder = LMDecoder.from_tokenizer(
        data.processor.tokenizer,
        lm_files.binary,
        unigrams=unigrams,
        beam_width=settings.beam_width,
        ngram_tables=lm_files.ngram_tables,
    )
    validation = evaluate_ctc(model, data.processor, data.corpus["validation"])
    tuning = tune_alpha_beta(
        decoder,
        validation.logits,
        validation.references,
        alphas=settings.lm_alphas,
        betas=settings.lm_betas,
        beam_width=settings.lm_tuning_beam_width(),
        num_processes=settings.num_workers,
    )
    decoder.set_params(alpha=tuning.alpha, beta=tuning.beta)
    return decoder, tuning, len(unigrams)


def evaluation_stage(
    settings: DemoSettings, data: CorpusStage, model: Any, decoder: LMDecoder
) -> dict[str, CTCEvaluation]:
    """Greedy and LM transcripts of the test splits: unseen voices (`test`) and seen voices (`test_seen_voices`)."""
    return {
        name: evaluate_ctc(model, data.processor, data.corpus[name], decoder, num_processes=settings.num_workers)
        for name in EVALUATION_SPLITS
        if name in data.corpus
    }


def per_voice_table(evaluations: dict[str, CTCEvaluation]) -> list[dict[str, Any]]:
    """One row per voice of each test split, marked seen or unseen: flite voices, espeak-ng variants (accents,
    speeds and pitches pooled, see `speakers.voice_family`)."""
    rows = []
    for split, evaluation in evaluations.items():
        for voice, scores in evaluation.by_group(voice_family).items():
            rows.append({"split": split, "voice": voice, "seen_in_train": split != "test", **scores})
    return rows


def save_stage(out: Path, model: Any, processor: Any, decoder: LMDecoder, card: str) -> Path:
    processor.decoder = decoder
    return save_model_folder(model, processor, out / "model", extra_files={"README.md": card})


def pipeline_stage(out: Path, data: CorpusStage, device: str | None) -> dict[str, Any]:
    """`pipeline()` on a saved test wav through the saved folder (LM, word timestamps)."""
    from transformers import pipeline

    first = data.corpus["test"][0]
    sample_path = out / "sample.wav"
    wave, rate = audio_array(first["audio"])
    soundfile.write(sample_path, wave, rate)
    recognizer = pipeline("automatic-speech-recognition", model=str(out / "model"), device=-1 if device else None)
    transcription = recognizer(str(sample_path), return_timestamps="word")
    return {
        "path": str(sample_path),
        "reference": first["text"],
        "speaker": first["speaker"],
        "text": transcription["text"],
        "chunks": transcription.get("chunks", []),
        "wave": wave,
        "rate": rate,
    }


def plots_stage(
    out: Path, data: CorpusStage, model: Any, pretrained: Any, logs: tuple[list, list], sample: dict[str, Any]
) -> list[str]:
    from .plots import plot_codebook_usage, plot_posteriors, plot_training_curves  # matplotlib only here

    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    written = ["training_curves", "spectrogram_posteriors"]
    plot_training_curves(logs[0], logs[1], plots / "training_curves.png")
    extractor = data.processor.feature_extractor
    features = extractor(sample["wave"], sampling_rate=sample["rate"], return_tensors="pt")
    with torch.no_grad():
        logits = model(**features.to(model.device)).logits[0].float().cpu()
    plot_posteriors(
        features["input_features"][0].numpy(),
        logits.softmax(-1).numpy(),
        data.processor.tokenizer,
        sample["chunks"],
        sample["reference"],
        plots / "spectrogram_posteriors.png",
    )
    if pretrained is not None:
        from ..decoding.evaluation import split_audio

        waves, _ = split_audio(data.corpus["validation"])
        plot_codebook_usage(pretrained, extractor, waves, plots / "codebook_usage.png")
        written.append("codebook_usage")
    return written


def voices_of(info: dict[str, Any], split: str) -> list[str]:
    """Engine voices (speed/pitch settings pooled) that speak `split`, from corpus_info.json."""
    return sorted({speaker_voice(v) for v in info["voices"].get(split, [])})


__all__ = [
    "corpus_stage",
    "pretraining_stage",
    "finetuning_stage",
    "language_model_stage",
    "evaluation_stage",
    "per_voice_table",
    "save_stage",
    "pipeline_stage",
    "plots_stage",
    "voices_of",
    "EVALUATION_SPLITS",
]
