"""Identical small training runs for the resume and multi-process tests (imported by the test and by the
subprocess scripts, so both sides run exactly the same recipe)."""

from __future__ import annotations

import datasets
import torch

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Config, LogMelWav2Vec2Processor
from hf_asr.modeling.feature_encoder import conv_output_lengths
from hf_asr.modeling.masking import compute_span_mask, sample_negative_indices
from hf_asr.training import finetune, pretrain
from hf_asr.training.collators import pad_features

from .synthetic import SENTENCES, tone_corpus


def quiet_tiny_config(**overrides) -> LogMelWav2Vec2Config:
    """Tiny config without dropout or SpecAugment (deterministic training), unless overridden."""
    settings = dict(
        hidden_dropout=0.0, attention_dropout=0.0, final_dropout=0.0, feat_proj_dropout=0.0, mask_time_prob=0.0
    )
    settings.update(overrides)
    return LogMelWav2Vec2Config.tiny(**settings)


def make_processor() -> LogMelWav2Vec2Processor:
    from hf_asr.data.vocab import build_tokenizer

    return LogMelWav2Vec2Processor(LogMelFeatureExtractor(), build_tokenizer(SENTENCES))


def run(
    mode: str,
    output_dir: str,
    max_steps: int,
    resume=None,
    save_steps: int | None = None,
    per_device_batch_size: int = 4,
    corpus: datasets.Dataset | None = None,
    **kwargs,
):
    """mode "pretrain" or "finetune", with dropout, SpecAugment/masking and Gumbel noise on (every RNG in use)."""
    corpus = corpus if corpus is not None else tone_corpus(copies=2, seed=0)
    common = dict(
        max_steps=max_steps,
        per_device_batch_size=per_device_batch_size,
        logging_steps=1,
        save_steps=save_steps,
        device="cpu",
        resume_from_checkpoint=resume,
        disable_tqdm=True,
        **kwargs,
    )
    if mode == "pretrain":
        config = LogMelWav2Vec2Config.tiny(
            mask_time_prob=0.3, mask_time_length=3, num_negatives=10, gumbel_temperature_decay=0.99, hidden_dropout=0.1
        )
        return pretrain(corpus, config, output_dir, learning_rate=2e-3, **common)
    if mode == "finetune":
        config = LogMelWav2Vec2Config.tiny(
            mask_time_prob=0.2,
            mask_time_length=3,
            mask_feature_prob=0.1,
            mask_feature_length=4,
            hidden_dropout=0.1,
            final_dropout=0.1,
        )
        return finetune(
            corpus,
            make_processor(),
            None,
            output_dir,
            config=config,
            learning_rate=3e-3,
            freeze_feature_encoder=False,
            **common,
        )
    raise ValueError(mode)


def losses(history) -> dict[int, float]:
    return {h["step"]: h["loss"] for h in history if "loss" in h}


class PerExampleMaskCollator:
    """Test collator: masks/negatives drawn per example from its `example_id` (independent of batching)."""

    def __init__(self, config, num_negatives=6):
        self.config, self.num_negatives = config, num_negatives

    def __call__(self, examples):
        batch = pad_features(examples)
        config = self.config
        mel = batch["attention_mask"].sum(-1)
        lengths = conv_output_lengths(mel, config.conv_kernel, config.conv_stride)
        time = int(
            conv_output_lengths(
                torch.tensor([batch["input_features"].shape[1]]), config.conv_kernel, config.conv_stride
            )[0]
        )
        masks, negatives = [], []
        for example, length in zip(examples, lengths.tolist()):
            generator = torch.Generator().manual_seed(int(example["example_id"]))
            mask = compute_span_mask(torch.tensor([length]), length, 0.3, 3, 1, generator)  # (1, length)
            negative = sample_negative_indices(mask, torch.tensor([length]), self.num_negatives, generator)
            masks.append(torch.nn.functional.pad(mask, (0, time - length)))
            negatives.append(torch.nn.functional.pad(negative, (0, 0, 0, time - length)))
        batch["mask_time_indices"] = torch.cat(masks)
        batch["sampled_negative_indices"] = torch.cat(negatives)
        return batch


def deterministic_ctc_run(
    output_dir: str, per_device_batch_size: int, gradient_accumulation_steps: int = 2, max_steps: int = 4
):
    """CTC fine-tuning without any randomness inside the step (no dropout, no SpecAugment): 16 utterances, two of
    them with labels too long for their frames (skipped), so processes see unequal numbers of usable utterances."""
    corpus = tone_corpus(copies=2, seed=0)
    texts = list(corpus["text"])
    texts[3] = texts[11] = "abc" * 60  # far more labels than frames
    corpus = corpus.remove_columns("text").add_column("text", texts)
    config = LogMelWav2Vec2Config.tiny(
        hidden_dropout=0.0, attention_dropout=0.0, final_dropout=0.0, feat_proj_dropout=0.0, mask_time_prob=0.0
    )
    return finetune(
        corpus,
        make_processor(),
        None,
        output_dir,
        max_steps=max_steps,
        config=config,
        learning_rate=3e-3,
        freeze_feature_encoder=False,
        per_device_batch_size=per_device_batch_size,
        gradient_accumulation_steps=gradient_accumulation_steps,
        logging_steps=1,
        device="cpu",
        disable_tqdm=True,
    )


def deterministic_pretraining_run(
    output_dir: str, per_device_batch_size: int, gradient_accumulation_steps: int = 2, max_steps: int = 3
):
    """Pretraining with masks fixed per utterance, the quantizer in eval mode and no dropout: nothing depends on
    how utterances are split over processes, except the (batch-level) diversity term, whose weight is 0 here."""
    from hf_asr import LogMelWav2Vec2ForPreTraining
    from hf_asr.data.features import prepare_dataset
    from hf_asr.training import PretrainingTrainer, make_training_args

    config = LogMelWav2Vec2Config.tiny(
        hidden_dropout=0.0, attention_dropout=0.0, feat_proj_dropout=0.0, num_negatives=6, diversity_loss_weight=0.0
    )
    dataset = prepare_dataset(tone_corpus(copies=2, seed=1), LogMelFeatureExtractor())
    dataset = dataset.add_column("example_id", list(range(len(dataset))))
    torch.manual_seed(0)
    model = LogMelWav2Vec2ForPreTraining(config)
    model.quantizer.eval()
    model.quantizer.train = lambda mode=True, q=model.quantizer: q  # argmax codes: no Gumbel noise
    args = make_training_args(
        output_dir,
        max_steps,
        per_device_batch_size,
        2e-3,
        logging_steps=1,
        device="cpu",
        gradient_accumulation_steps=gradient_accumulation_steps,
        remove_unused_columns=False,
        disable_tqdm=True,
    )
    trainer = PretrainingTrainer(
        model=model, args=args, data_collator=PerExampleMaskCollator(config), train_dataset=dataset
    )
    trainer.train()
    return trainer.model, trainer.state.log_history
