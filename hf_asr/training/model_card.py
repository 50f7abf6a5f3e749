"""README.md (model card) of the final model folder of `pretrain`/`finetune`: what the model is, how it was
trained, its final eval metrics, how to use it. The demo's card shares the usage section."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def percent(value: float | None) -> str:
    """A rate as a percentage with one decimal ("12.3%"); "–" for None (not measured)."""
    return "–" if value is None else f"{100 * value:.1f}%"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _front_matter(pipeline_tag: str, tags: list[str]) -> str:
    return f"---\nlibrary_name: transformers\npipeline_tag: {pipeline_tag}\ntags: [{', '.join(tags)}]\n---\n"


def usage_section(has_lm: bool) -> str:
    """The card's "Use" section: the ASR pipeline, with or without hf_asr installed."""
    decoding = (
        "The pipeline decodes with the saved KenLM decoder in `language_model/` (needs `pyctcdecode`, `kenlm` and "
        "`soundfile`; not `hf_asr`)."
        if has_lm
        else "Greedy CTC decoding: the folder has no LM (`hf-asr build-lm --text TEXT --out LM_DIR --model FOLDER` "
        "adds one)."
    )
    return f"""## Use
```python
from transformers import pipeline
asr = pipeline("automatic-speech-recognition", model="PATH_OR_REPO", trust_remote_code=True)
asr("audio.wav", return_timestamps="word")
```
{decoding}
"""


def _shape(config: Any) -> str:
    return (
        f"{config.num_hidden_layers} layers × {config.hidden_size}, conv stem {list(config.conv_dim)} "
        f"(strides {list(config.conv_stride)})"
    )


def _training_line(source: str | None, train_split: str, train: Mapping[str, Any]) -> str:
    origin = f"from `{source}`" if source else "from a new model"
    samples = f" ({train['train_samples']} utterances)" if train.get("train_samples") is not None else ""
    return (
        f"Trained {origin} for {train.get('global_step', '?')} optimizer steps on the `{train_split}` split{samples}; "
        f"mean training loss {_number(train.get('train_loss'))}."
    )


def ctc_model_card(
    config: Any,
    source: str | None,
    train_split: str,
    train: Mapping[str, Any],
    evaluation: Mapping[str, Any] | None,
    eval_split: str | None,
    has_lm: bool,
) -> str:
    """Card of a fine-tuned CTC model. `train`: train metrics (train_loss, train_samples, global_step);
    `evaluation`: the final eval metrics (eval_wer, eval_cer, eval_loss, eval_samples) or None."""
    if evaluation is None:
        results = "No eval split was evaluated: `hf-asr evaluate --model FOLDER --corpus CORPUS` measures WER/CER."
    else:
        results = "\n".join(
            [
                "| split | utterances | WER | CER | CTC loss |",
                "|---|---|---|---|---|",
                f"| {eval_split} | {evaluation.get('eval_samples', '–')} | {percent(evaluation.get('eval_wer'))} | "
                f"{percent(evaluation.get('eval_cer'))} | {_number(evaluation.get('eval_loss'))} |",
                "",
                "Greedy CTC decoding (`hf-asr evaluate` adds the LM's WER/CER once the folder has one).",
            ]
        )
    return f"""{_front_matter("automatic-speech-recognition", ["hf_asr", "wav2vec2", "ctc", "log-mel"])}
# Log-mel wav2vec 2.0 CTC model (hf_asr)

A log-mel wav2vec 2.0 encoder ({_shape(config)}) with a CTC head over {config.vocab_size} characters.
{_training_line(source, train_split, train)}

## Results
{results}

{usage_section(has_lm)}"""


def pretraining_model_card(
    config: Any,
    source: str | None,
    train_split: str,
    train: Mapping[str, Any],
    evaluation: Mapping[str, Any] | None,
    eval_split: str | None,
) -> str:
    """Card of a contrastively pretrained encoder (no CTC head: for fine-tuning, not for transcribing)."""
    loss = "" if evaluation is None else f" Final loss on `{eval_split}`: {_number(evaluation.get('eval_loss'))}."
    return f"""{_front_matter("feature-extraction", ["hf_asr", "wav2vec2", "pretraining", "log-mel"])}
# Log-mel wav2vec 2.0 pretrained encoder (hf_asr)

A log-mel wav2vec 2.0 encoder ({_shape(config)}) pretrained contrastively (Gumbel quantizer over
{config.num_codevector_groups} × {config.num_codevectors_per_group} codevectors, contrastive + diversity loss).
{_training_line(source, train_split, train)}{loss}

## Use
Fine-tune it with CTC: `hf-asr finetune --init_from FOLDER --corpus CORPUS --output_dir OUT` (or
`hf_asr.training.finetune(corpus, processor, "FOLDER", ...)`).
"""


__all__ = ["ctc_model_card", "pretraining_model_card", "usage_section", "percent"]
