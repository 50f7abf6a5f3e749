"""Positional options side by side: the same corpus, seed and steps for "conv", "depthwise" and "rotary".

Speaks (or reuses) a small held-out-voice corpus with the demo's corpus stage, then for each option pretrains
`--pretrain-steps` steps and fine-tunes `--finetune-steps` steps from that encoder (step counts, not a time budget,
so the curves compare per step on any machine). Writes OUT/positional.json (loss curves, final validation WER/CER,
seconds per step) and OUT/positional.png (the curves).

    python scripts/compare_positional.py --out runs/positional --pretrain-steps 100 --finetune-steps 250
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import datasets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from hf_asr.demo.settings import demo_settings  # noqa: E402
from hf_asr.demo.stages import corpus_stage  # noqa: E402
from hf_asr.modeling.positional import POSITION_EMBEDDINGS  # noqa: E402
from hf_asr.training.recipes import finetune, pretrain  # noqa: E402

SMALL_CORPUS = dict(
    train_sentences=1200,
    unlabelled_sentences=600,
    validation_sentences=80,
    test_sentences=20,
    seen_voice_test=False,
    train_speakers=60,
    heldout_speakers=8,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/positional")
    parser.add_argument("--kinds", nargs="+", default=list(POSITION_EMBEDDINGS), choices=POSITION_EMBEDDINGS)
    parser.add_argument("--pretrain-steps", type=int, default=100)
    parser.add_argument("--finetune-steps", type=int, default=250)
    parser.add_argument("--seconds-per-batch", type=float, default=16.0, help="audio seconds per batch")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def series(log: list[dict], key: str) -> list[tuple[int, float]]:
    return [(entry["step"], entry[key]) for entry in log if key in entry and "step" in entry]


def run_kind(kind: str, args: argparse.Namespace, out: Path, data) -> dict:
    settings = demo_settings("cpu", "cpu", seed=args.seed, corpus=SMALL_CORPUS, model={"position_embedding": kind})
    prepared = data.prepared
    pool = datasets.concatenate_datasets(
        [prepared[name].select_columns(["input_features", "duration"]) for name in ("train", "unlabelled")]
    )
    common = dict(logging_steps=10, seed=args.seed, device="cpu")
    started = time.perf_counter()
    pretrained, pretrain_log = pretrain(
        pool,
        settings.model_config(),
        str(out / kind / "pretrain"),
        args.pretrain_steps,
        feature_extractor=data.processor.feature_extractor,
        max_seconds_per_batch=args.seconds_per_batch,
        learning_rate=settings.pretrain_learning_rate,
        eval_split=None,
        **common,
    )
    pretrain_seconds = time.perf_counter() - started
    started = time.perf_counter()
    labelled = datasets.DatasetDict({"train": prepared["train"], "validation": prepared["validation"]})
    _, finetune_log = finetune(
        labelled,
        data.processor,
        pretrained,
        str(out / kind / "finetune"),
        args.finetune_steps,
        config=settings.model_config(),
        freeze_feature_encoder=False,
        mask_time_prob=settings.finetune_mask_time_prob,
        max_seconds_per_batch=args.seconds_per_batch,
        learning_rate=settings.finetune_learning_rate,
        eval_steps=max(1, args.finetune_steps // 4),
        **common,
    )
    finetune_seconds = time.perf_counter() - started
    final_eval = [entry for entry in finetune_log if "eval_wer" in entry][-1]
    return {
        "pretrain_loss": series(pretrain_log, "loss"),
        "ctc_loss": series(finetune_log, "loss"),
        "eval_loss": series(finetune_log, "eval_loss"),
        "validation_wer": final_eval["eval_wer"],
        "validation_cer": final_eval["eval_cer"],
        "pretrain_seconds_per_step": pretrain_seconds / args.pretrain_steps,
        "finetune_seconds_per_step": finetune_seconds / args.finetune_steps,
    }


def plot(results: dict[str, dict], path: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for kind, result in results.items():
        for axis, key in zip(axes, ("pretrain_loss", "ctc_loss", "eval_loss")):
            steps, values = zip(*result[key]) if result[key] else ((), ())
            axis.plot(steps, values, label=kind)
            axis.set_title(key.replace("_", " "))
            axis.set_xlabel("step")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    out = Path(args.out)
    data = corpus_stage(demo_settings("cpu", "cpu", seed=args.seed, corpus=SMALL_CORPUS), out)
    results = {kind: run_kind(kind, args, out, data) for kind in args.kinds}
    (out / "positional.json").write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
    plot(results, out / "positional.png")
    print("| position_embedding | final pretrain loss | final CTC loss | val WER | val CER | s/step pre | s/step ft |")
    print("|---|---|---|---|---|---|---|")
    for kind, r in results.items():
        print(
            f"| {kind} | {r['pretrain_loss'][-1][1]:.3f} | {r['ctc_loss'][-1][1]:.3f} "
            f"| {100 * r['validation_wer']:.1f}% | {100 * r['validation_cer']:.1f}% "
            f"| {r['pretrain_seconds_per_step']:.2f} | {r['finetune_seconds_per_step']:.2f} |"
        )


if __name__ == "__main__":
    main()
