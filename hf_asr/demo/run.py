"""`hf-asr demo`: the whole system end to end on this machine, timed, with a report, plots and a Hub-ready folder.

Steps: corpus (TTS) -> contrastive pretraining -> CTC fine-tuning -> KenLM + α/β tuning -> test evaluation ->
saved model folder -> pipeline() transcription with word timestamps -> plots -> report.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile
import torch

from ..data.corpus import build_corpus
from ..data.vocab import build_tokenizer
from ..decoding.inference import compute_logits, load_audio
from ..decoding.lm_building import build_lm, read_unigrams
from ..decoding.tuning import tune_alpha_beta
from ..hub import save_model_folder
from ..metrics import load_metric
from ..modeling.configuration import LogMelWav2Vec2Config
from ..modeling.feature_extraction import LogMelFeatureExtractor
from ..modeling.lm_decoder import LMDecoder
from ..modeling.processing import LogMelWav2Vec2Processor
from ..training.recipes import audio_array, finetune, pretrain
from .budget import TimeBudgetCallback
from .report import model_card, write_report
from .sentences import closed_vocabulary_sentences, lm_text, pick_sentences

logger = logging.getLogger(__name__)


@dataclass
class DemoSettings:
    out: str = "runs/demo"
    device: str = "auto"
    seed: int = 0
    minutes: float = 15.0
    num_sentences: int = 900
    voices_per_sentence: int = 2
    num_voices: int = 8
    vocabulary_size: int = 600
    pretrain_steps: int = 400
    finetune_steps: int = 5000  # a ceiling: the budget and the measured speed set the real count
    batch_size: int = 16
    max_seconds_per_batch: float = 48.0  # duration-bucketed batches: little padding
    lm_order: int = 4
    # Shares of the time budget; the rest covers corpus, LM, evaluation, saving and plots.
    pretrain_share: float = 0.12
    finetune_share: float = 0.72
    model: dict[str, Any] = field(default_factory=dict)


def demo_config(**overrides: Any) -> LogMelWav2Vec2Config:
    """A model small enough to pretrain and fine-tune in minutes on two CPU cores (≈1.2M parameters)."""
    settings = dict(
        conv_dim=[144, 144],
        conv_kernel=[5, 3],
        conv_stride=[2, 1],  # 20 ms frames: 40 ms leave too few frames per character for CTC to learn fast
        hidden_size=144,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=384,
        num_conv_pos_embeddings=32,
        num_conv_pos_embedding_groups=8,
        hidden_dropout=0.1,
        attention_dropout=0.1,
        final_dropout=0.1,
        num_codevectors_per_group=64,
        codevector_dim=64,
        proj_codevector_dim=64,
        num_negatives=30,
        mask_time_length=4,
        mask_time_prob=0.5,
        max_gumbel_temperature=2.0,
        min_gumbel_temperature=0.5,
        gumbel_temperature_decay=0.995,
    )
    return LogMelWav2Vec2Config(**{**settings, **overrides})


def _device_arg(device: str) -> str | None:
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but torch sees no CUDA device")
    if device == "cpu":
        return "cpu"
    return None  # auto / cuda: the Trainer takes the accelerator when there is one


def _split_audio(split: Any) -> tuple[list[np.ndarray], list[str]]:
    waves = [audio_array(row["audio"])[0] for row in split]
    return waves, list(split.select_columns(["text"])["text"])


def run_demo(settings: DemoSettings) -> dict[str, Any]:
    """Run every step, write OUT/report.json, OUT/report.md, OUT/plots/*.png and OUT/model; return the report."""
    from .plots import plot_codebook_usage, plot_posteriors, plot_training_curves  # matplotlib only here

    started = time.monotonic()
    budget = settings.minutes * 60
    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    device = _device_arg(settings.device)
    torch.manual_seed(settings.seed)
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        timings[name] = round(time.monotonic() - since, 1)
        print(f"[demo] {name}: {timings[name]} s", flush=True)
        return time.monotonic()

    # 1. Corpus: real sentences of a closed vocabulary, several voices, split by sentence.
    now = time.monotonic()
    candidates = closed_vocabulary_sentences(settings.vocabulary_size)
    chosen = pick_sentences(candidates, settings.num_sentences, settings.seed)
    corpus = build_corpus(
        out / "corpus", len(chosen), settings.voices_per_sentence, seed=settings.seed, sentence_source=chosen,
        num_voices=settings.num_voices, overwrite=True,
    )
    test_waves, test_texts = _split_audio(corpus["test"])
    valid_waves, valid_texts = _split_audio(corpus["validation"])
    tokenizer = build_tokenizer(corpus["train"].select_columns(["text"])["text"], out_dir=out / "vocab")
    feature_extractor = LogMelFeatureExtractor()
    processor = LogMelWav2Vec2Processor(feature_extractor, tokenizer)
    now = lap("corpus", now)

    # 2. Contrastive pretraining on the train audio (transcripts unused).
    config = demo_config(**settings.model)
    pretrain_budget = TimeBudgetCallback(budget * settings.pretrain_share)
    pretrained, pretrain_log = pretrain(
        corpus.remove_columns(["text"]), config, str(out / "pretrain"), settings.pretrain_steps,
        per_device_batch_size=settings.batch_size, max_seconds_per_batch=settings.max_seconds_per_batch,
        learning_rate=2e-3, logging_steps=10, eval_split=None,
        seed=settings.seed, device=device, callbacks=[pretrain_budget], dataloader_num_workers=0,
    )
    now = lap("pretraining", now)

    # 3. CTC fine-tuning from the pretrained encoder.
    finetune_seconds = budget * settings.finetune_share
    # Plan the step count from the measured pretraining speed, so the learning-rate schedule runs its full
    # course within the budget (a CTC step costs a little less than a pretraining step).
    finetune_steps = min(settings.finetune_steps, max(10, int(finetune_seconds * _steps_per_second(pretrain_log))))
    finetune_budget = TimeBudgetCallback(finetune_seconds)
    eval_steps = max(10, finetune_steps // 8)
    model, finetune_log = finetune(
        corpus, processor, pretrained, str(out / "finetune"), finetune_steps,
        freeze_feature_encoder=False, mask_time_prob=0.1, per_device_batch_size=settings.batch_size,
        max_seconds_per_batch=settings.max_seconds_per_batch, learning_rate=3e-3, logging_steps=10,
        eval_steps=eval_steps, seed=settings.seed, device=device,
        callbacks=[finetune_budget], dataloader_num_workers=0,
    )
    model.eval()
    now = lap("fine-tuning", now)

    # 4. KenLM from text without the test sentences; α/β tuned on validation.
    lm_files = build_lm(lm_text(candidates, test_texts), out / "lm", order=settings.lm_order)
    decoder = LMDecoder.from_tokenizer(tokenizer, lm_files.binary, unigrams=read_unigrams(lm_files.unigrams))
    valid_logits = compute_logits(model, feature_extractor, valid_waves, 16000, batch_size=16)
    tuning = tune_alpha_beta(
        decoder, valid_logits, valid_texts, alphas=(0.3, 0.6, 1.0, 1.5), betas=(0.0, 1.0, 2.0, 3.0), beam_width=24
    )
    decoder.set_params(alpha=tuning.alpha, beta=tuning.beta)
    print(tuning.table(), flush=True)
    now = lap("language model", now)

    # 5. Test evaluation, greedy and with the LM, through `evaluate`.
    test_logits = compute_logits(model, feature_extractor, test_waves, 16000, batch_size=16)
    greedy = [tokenizer.decode(x.argmax(-1)) for x in test_logits]
    with_lm = decoder.decode_batch(test_logits, num_processes=2).text
    wer, cer = load_metric("wer"), load_metric("cer")
    scores = {
        "wer_greedy": wer.compute(predictions=greedy, references=test_texts),
        "wer_lm": wer.compute(predictions=with_lm, references=test_texts),
        "cer_greedy": cer.compute(predictions=greedy, references=test_texts),
        "cer_lm": cer.compute(predictions=with_lm, references=test_texts),
    }
    now = lap("evaluation", now)

    # 6. One Hub-ready folder: model, processor, tokenizer, LM decoder, model card, code.
    processor.decoder = decoder
    results_so_far = {**scores, "n_test_utterances": len(test_texts)}
    card = model_card(results_so_far, settings, config, tuning, timings)
    save_model_folder(model, processor, out / "model", extra_files={"README.md": card})
    now = lap("saving", now)

    # 7. pipeline() with the saved LM and word timestamps, on a test file.
    from transformers import pipeline

    sample_path = out / "sample.wav"
    soundfile.write(sample_path, test_waves[0], 16000)
    wave, rate = load_audio(sample_path)
    recognizer = pipeline("automatic-speech-recognition", model=str(out / "model"), device=-1 if device else None)
    transcription = recognizer({"raw": wave, "sampling_rate": rate}, return_timestamps="word")
    print(f"[demo] {sample_path}: reference: {test_texts[0]!r}", flush=True)
    print(f"[demo] {sample_path}: pipeline+LM: {transcription['text']!r}", flush=True)
    for chunk in transcription.get("chunks", []):
        start, end = chunk["timestamp"]
        print(f"         {start:6.2f}–{end:6.2f} s  {chunk['text']}", flush=True)
    now = lap("pipeline", now)

    # 8. Plots.
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    plot_training_curves(pretrain_log, finetune_log, plots / "training_curves.png")
    sample_features = feature_extractor(wave, sampling_rate=rate, return_tensors="pt")
    with torch.no_grad():
        sample_logits = model(**sample_features.to(model.device)).logits[0].float().cpu()
    plot_posteriors(
        sample_features["input_features"][0].numpy(), sample_logits.softmax(-1).numpy(), tokenizer,
        transcription.get("chunks", []), test_texts[0], plots / "spectrogram_posteriors.png",
    )
    plot_codebook_usage(pretrained, feature_extractor, valid_waves, plots / "codebook_usage.png")
    now = lap("plots", now)

    report = {
        **scores,
        "n_test_utterances": len(test_texts),
        "pretrain_steps": _last_step(pretrain_log),
        "finetune_steps": _last_step(finetune_log),
        "seconds": round(time.monotonic() - started, 1),
        "step_seconds": timings,
        "lm": {"order": settings.lm_order, "alpha": tuning.alpha, "beta": tuning.beta, "validation_wer": tuning.wer},
        "pipeline_sample": {"reference": test_texts[0], "text": transcription["text"],
                            "chunks": transcription.get("chunks", [])},
        "corpus": {split: len(ds) for split, ds in corpus.items()},
        "device": "cuda" if device is None and torch.cuda.is_available() else "cpu",
        "settings": asdict(settings),
        "examples": [{"reference": r, "greedy": g, "lm": lm} for r, g, lm in zip(test_texts[:8], greedy, with_lm)],
    }
    write_report(report, out)
    return report


def _steps_per_second(log_history: list[dict[str, Any]]) -> float:
    """Optimizer steps per second of a finished training run (its final log entry)."""
    runtime = max((entry.get("train_runtime", 0.0) for entry in log_history), default=0.0)
    return _last_step(log_history) / runtime if runtime > 0 else 1.0


def _last_step(log_history: list[dict[str, Any]]) -> int:
    return int(max((entry.get("step", 0) for entry in log_history), default=0))

