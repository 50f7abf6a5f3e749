"""Does contrastive pretraining pay? Fine-tune on 10% of the labels from the pretrained encoder and from scratch.

Uses (or speaks) the demo's corpus: pretraining sees the audio of the unlabelled pool and of the whole train split
(transcripts never read); then two models are fine-tuned with the same time budget on a random 10% of the labelled
train utterances, one from the pretrained encoder, one from random weights. Both are scored on the test split
(new sentences, unseen voices), greedy and with the demo's KenLM; OUT/pretraining_benefit.json holds the numbers
and each arm's validation curve, OUT/pretraining_benefit.png plots them (validation loss and CER per step).
`--set finetune_freeze_base_fraction=F` lets the pretrained arm's CTC head train alone for its first fraction F (the
scratch arm has no encoder worth reading: it trains whole from the start).

    python examples/pretraining_benefit.py --out runs/benefit --minutes 30              # the GPU if there is one
    python examples/pretraining_benefit.py --out runs/benefit --minutes 30 --device cpu --pretrain-share 0.7
"""

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from hf_asr.demo import stages
from hf_asr.demo.commands import parse_overrides
from hf_asr.demo.plots import plot_validation_by_arm, validation_curve
from hf_asr.demo.settings import demo_settings

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", default="runs/pretraining_benefit")
parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
parser.add_argument("--preset", default="auto", choices=["auto", "cpu", "gpu"])
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--minutes", type=float, default=30.0, help="whole budget: pretraining + two fine-tunings")
parser.add_argument("--label-fraction", type=float, default=0.1)
parser.add_argument("--pretrain-share", type=float, default=0.5, help="share of the training time for pretraining")
parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="demo setting overrides")
args = parser.parse_args()
out = Path(args.out)
settings = demo_settings(
    args.preset, args.device, out=str(out), seed=args.seed, minutes=args.minutes, **parse_overrides(args.set)
)
started = time.monotonic()

data = stages.corpus_stage(settings, out)
train = data.corpus["train"]
chosen = np.random.default_rng(args.seed).permutation(len(train))[: max(1, int(args.label_fraction * len(train)))]
few_labels = stages.with_train_subset(data, sorted(chosen.tolist()))
labelled = stages.labelled_train(few_labels)  # what fine-tuning reads
training = settings.minutes * 60 - (time.monotonic() - started) - settings.reserve_seconds
pretrain_seconds = args.pretrain_share * training
finetune_seconds = (training - pretrain_seconds) / 2
pretrained, _ = stages.pretraining_stage(settings, out, data, pretrain_seconds)

results, curves = {}, {}
for name, init in (("pretrained", pretrained), ("scratch", None)):
    run = dataclasses.replace(settings, out=str(out / name))
    model, log = stages.finetuning_stage(run, out / name, few_labels, init, finetune_seconds)
    decoder, tuning, _ = stages.language_model_stage(run, out / name, few_labels, model)
    test = stages.evaluation_stage(run, few_labels, model, decoder)["test"]
    results[name] = {**test.scores, "finetune_steps": max((e.get("step", 0) for e in log), default=0)}
    curves[name] = validation_curve(log)


def relative_reduction(metric: str) -> float:
    return 1 - results["pretrained"][metric] / max(results["scratch"][metric], 1e-9)


reduction = relative_reduction("wer_greedy")
plot_validation_by_arm(curves, out / "pretraining_benefit.png")
report = {
    "settings": {**vars(args), "pretrain_seconds": pretrain_seconds, "finetune_seconds": finetune_seconds},
    "labelled_utterances": len(labelled),
    "pool_utterances": len(train) + len(data.corpus["unlabelled"]),
    "test_utterances": len(data.corpus["test"]),
    "results": results,
    "relative_wer_reduction": reduction,
    "relative_cer_reduction": relative_reduction("cer_greedy"),
    # Each arm's evaluations during fine-tuning: where pretraining leads, and whether scratch catches up.
    "validation_curves": curves,
    "seconds": round(time.monotonic() - started, 1),
}
(out / "pretraining_benefit.json").write_text(json.dumps(report, indent=2))
print(
    f"| init | WER greedy | CER greedy | WER + LM |  ({len(labelled)} labelled utterances, "
    f"{report['pool_utterances']} in the pretraining pool, {report['test_utterances']} test)"
)
print("|---|---|---|---|")
for name, scores in results.items():
    print(
        f"| {name} | {100 * scores['wer_greedy']:.1f}% | {100 * scores['cer_greedy']:.1f}% | "
        f"{100 * scores['wer_lm']:.1f}% |"
    )
print(f"relative WER reduction from pretraining (greedy): {100 * reduction:.1f}% (target >= 20%)")
print(f"relative CER reduction from pretraining (greedy): {100 * report['relative_cer_reduction']:.1f}%")
print("validation CER during fine-tuning (step: pretrained / scratch):")
for pretrained_point, scratch_point in zip(curves["pretrained"], curves["scratch"]):
    cers = [100 * point.get("eval_cer", float("nan")) for point in (pretrained_point, scratch_point)]
    print(f"  {pretrained_point['step']} / {scratch_point['step']}: {cers[0]:.1f}% / {cers[1]:.1f}%")
print(f"curves: {out / 'pretraining_benefit.png'}")
