"""The demo's report.json / report.md and the model card written into the saved model folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def results_table(results: dict[str, Any]) -> str:
    rows = [
        "| decoding | WER | CER |",
        "|---|---|---|",
        f"| greedy (argmax CTC) | {_percent(results['wer_greedy'])} | {_percent(results['cer_greedy'])} |",
        f"| beam search + KenLM | {_percent(results['wer_lm'])} | {_percent(results['cer_lm'])} |",
    ]
    return "\n".join(rows)


def model_card(results: dict[str, Any], settings: Any, config: Any, tuning: Any, timings: dict[str, float]) -> str:
    """README.md of the saved folder: what the model is, how it was trained, its results, how to use it."""
    parameters = (
        f"{config.num_hidden_layers} layers × {config.hidden_size}, conv stem {config.conv_dim} "
        f"(kernels {config.conv_kernel}, strides {config.conv_stride}), "
        f"{config.num_codevector_groups}×{config.num_codevectors_per_group} codevectors"
    )
    return f"""---
library_name: transformers
pipeline_tag: automatic-speech-recognition
tags: [hf_asr, wav2vec2, ctc, kenlm, log-mel]
language: [en]
---
# hf_asr demo model: log-mel wav2vec 2.0 + CTC + KenLM

A small log-mel wav2vec 2.0 encoder ({parameters}), pretrained contrastively (Gumbel quantizer, contrastive +
diversity loss) on synthetic speech, then fine-tuned with CTC over characters; decoded with pyctcdecode and a
{settings.lm_order}-gram KenLM (α = {tuning.alpha}, β = {tuning.beta}, tuned on validation).

## Results on the test split ({results['n_test_utterances']} utterances, sentences never heard in training)
{results_table(results)}

## Training
- Corpus: {settings.num_sentences} English sentences (Debian fortunes, limited to the {settings.vocabulary_size}
  most frequent words) spoken by espeak-ng and flite voices ({settings.voices_per_sentence} voices per sentence),
  split by sentence into train / validation / test.
- Pretraining: up to {settings.pretrain_steps} steps; fine-tuning: up to {settings.finetune_steps} steps
  (batch {settings.batch_size}); seed {settings.seed}; stage times (s): {json.dumps(timings)}.
- The LM text excludes every test sentence.

This is a demonstration model: synthetic voices, a closed vocabulary. It is not for real speech.

## Use
```python
from transformers import pipeline
asr = pipeline("automatic-speech-recognition", model="PATH_OR_REPO", trust_remote_code=True)
asr("audio.wav", return_timestamps="word")
```
With `hf_asr` installed (`import hf_asr`), the pipeline also uses the saved KenLM decoder in `language_model/`.
"""


def write_report(report: dict[str, Any], out: Path) -> None:
    """OUT/report.json (machine-readable) and OUT/report.md (for people)."""
    (out / "report.json").write_text(json.dumps(report, indent=2))
    lines = [
        "# hf_asr demo report",
        "",
        f"Ran in {report['seconds']:.0f} s on {report['device']}: "
        f"{report['pretrain_steps']} pretraining steps, {report['finetune_steps']} fine-tuning steps.",
        "",
        f"## Test results ({report['n_test_utterances']} utterances)",
        results_table(report),
        "",
        f"LM: {report['lm']['order']}-gram, α = {report['lm']['alpha']}, β = {report['lm']['beta']} "
        f"(validation WER {_percent(report['lm']['validation_wer'])}).",
        "",
        "## Examples",
        "| reference | greedy | with LM |",
        "|---|---|---|",
        *[f"| {e['reference']} | {e['greedy']} | {e['lm']} |" for e in report["examples"]],
        "",
        "## pipeline() with word timestamps",
        f"Reference: {report['pipeline_sample']['reference']}",
        "",
        f"Transcript: {report['pipeline_sample']['text']}",
        "",
        *[
            f"- {c['timestamp'][0]:.2f}–{c['timestamp'][1]:.2f} s: {c['text']}"
            for c in report["pipeline_sample"]["chunks"]
        ],
        "",
        "## Time per step (s)",
        *[f"- {name}: {seconds}" for name, seconds in report["step_seconds"].items()],
        "",
        "## Plots",
        "![training curves](plots/training_curves.png)",
        "![log-mel, CTC posteriors and word timestamps](plots/spectrogram_posteriors.png)",
        "![codebook usage](plots/codebook_usage.png)",
    ]
    (out / "report.md").write_text("\n".join(lines) + "\n")
