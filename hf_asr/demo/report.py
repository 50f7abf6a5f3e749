"""The demo's report.json / report.md and the model card written into the saved model folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..training.model_card import percent, usage_section


def results_table(report: dict[str, Any]) -> str:
    """Greedy and LM WER/CER on unseen voices (the test split) and, when measured, on seen voices."""
    rows = ["| test utterances | decoding | WER | CER |", "|---|---|---|---|"]
    splits = [("new sentences, unseen voices", report)]
    if report.get("seen_voices"):
        splits.append(("same sentences, voices seen in training", report["seen_voices"]))
    for name, scores in splits:
        rows.append(f"| {name} | greedy | {percent(scores['wer_greedy'])} | {percent(scores['cer_greedy'])} |")
        rows.append(f"| {name} | beam search + KenLM | {percent(scores['wer_lm'])} | {percent(scores['cer_lm'])} |")
    return "\n".join(rows)


def per_voice_table(report: dict[str, Any]) -> str:
    """One row per engine voice and test split, seen-in-training marked."""
    rows = [
        "| voice | seen in training | utterances | WER greedy | WER + LM | CER greedy |",
        "|---|---|---|---|---|---|",
    ]
    for row in sorted(report["per_voice"], key=lambda r: (r["seen_in_train"], r["voice"])):
        rows.append(
            f"| {row['voice']} | {'yes' if row['seen_in_train'] else 'no'} | {row['n_utterances']} | "
            f"{percent(row['wer_greedy'])} | {percent(row.get('wer_lm'))} | {percent(row['cer_greedy'])} |"
        )
    seen = report.get("seen_voices")
    if seen and seen["wer_lm"] > 0:
        rows.append("")
        rows.append(f"Unseen / seen voices, WER with the LM: {report['wer_lm'] / seen['wer_lm']:.2f}×.")
    return "\n".join(rows)


def _corpus_lines(report: dict[str, Any]) -> list[str]:
    corpus = report["corpus"]
    settings = report["settings"]
    engines = sorted({voice.split(":")[0] for voice in report["train_voices"] + report["test_voices"]})
    engines = ", ".join(engines[:-1]) + " and " + engines[-1] if len(engines) > 1 else "".join(engines)
    source = settings["corpus"].get("sentence_source") or "Debian's fortunes"
    return [
        f"- Corpus: open vocabulary (English sentences of {source}), spoken by {engines}: "
        f"{corpus['train']} labelled train utterances ({corpus['hours']['train']} h) by "
        f"{len(report['train_voices'])} engine voices at varied speed and pitch; "
        f"{corpus.get('unlabelled', 0)} more unlabelled utterances for pretraining.",
        f"- Test: {report['n_test_utterances']} utterances of sentences never heard in training, spoken by "
        f"{len(report['test_voices'])} engine voices no train utterance uses "
        f"(disjoint: {report['test_voices_unseen']}): {', '.join(report['test_voices'])}.",
        f"- LM: {report['lm']['order']}-gram KenLM over {report['lm_vocabulary_size']} words, trained on every "
        "candidate sentence except the validation and test ones"
        + (f", and the words of {report['lm']['word_list']}, one per line." if report["lm"].get("word_list") else "."),
        f"- Augmentation (training only): {json.dumps(report['augmentation']) if report['augmentation'] else 'none'}.",
        f"- Steps: {report['pretrain_steps']} pretraining, {report['finetune_steps']} fine-tuning "
        f"(preset {settings['preset']}, {settings['minutes']} min budget, seed {settings['seed']}).",
    ]


def model_card(report: dict[str, Any], settings: Any) -> str:
    """README.md of the saved folder: what the model is, how it was trained, its results, how to use it."""
    config = settings.model_config()
    shape = (
        f"{config.num_hidden_layers} layers × {config.hidden_size}, conv stem {config.conv_dim} "
        f"(kernels {config.conv_kernel}, strides {config.conv_stride})"
    )
    return f"""---
library_name: transformers
pipeline_tag: automatic-speech-recognition
tags: [hf_asr, wav2vec2, ctc, kenlm, log-mel]
language: [en]
---
# hf_asr demo model: log-mel wav2vec 2.0 + CTC + KenLM

A small log-mel wav2vec 2.0 encoder ({shape}), pretrained contrastively (Gumbel quantizer, contrastive +
diversity loss) on synthetic speech, then fine-tuned with CTC over characters; decoded with pyctcdecode and a
{report["lm"]["order"]}-gram KenLM (α = {report["lm"]["alpha"]}, β = {report["lm"]["beta"]}, tuned on validation).

## Results
{results_table(report)}

## Per voice
{per_voice_table(report)}

## Training
{chr(10).join(_corpus_lines(report))}

This is a demonstration model trained on synthetic voices only. It is not for real speech.

{usage_section(has_lm=True)}"""


def write_report(report: dict[str, Any], out: Path) -> None:
    """OUT/report.json (machine-readable) and OUT/report.md (for people)."""
    (out / "report.json").write_text(json.dumps(report, indent=2))
    sample = report["pipeline_sample"]
    lines = [
        "# hf_asr demo report",
        "",
        f"Ran in {report['seconds']:.0f} s on {report['device']} (preset {report['preset']}).",
        "",
        "## Results",
        results_table(report),
        "",
        f"LM relative WER gain on unseen voices: "
        f"{percent(1 - report['wer_lm'] / report['wer_greedy'] if report['wer_greedy'] else None)}.",
        "",
        "## Per voice",
        per_voice_table(report),
        "",
        "## Setup",
        *_corpus_lines(report),
        "",
        "## Examples (unseen voices)",
        "| voice | reference | greedy | with LM |",
        "|---|---|---|---|",
        *[f"| {e['speaker']} | {e['reference']} | {e['greedy']} | {e['lm']} |" for e in report["examples"]],
        "",
        "## pipeline() with word timestamps",
        f"Reference ({sample['speaker']}): {sample['reference']}",
        "",
        f"Transcript: {sample['text']}",
        "",
        *[f"- {c['timestamp'][0]:.2f}–{c['timestamp'][1]:.2f} s: {c['text']}" for c in sample["chunks"]],
        "",
        "## Time per stage (s)",
        *[f"- {name}: {seconds}" for name, seconds in report["step_seconds"].items()],
        "",
        "## Plots",
        *[f"![{name}](plots/{name}.png)" for name in report["plots"]],
    ]
    (out / "report.md").write_text("\n".join(lines) + "\n")
