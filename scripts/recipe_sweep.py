"""Run the demo under several settings, one after the other, and tabulate settings -> WER/CER/seconds.

Each run is `hf-asr demo --out OUT/NAME --minutes M --set ...` in its own process; the corpus and feature folders
are shared (OUT/corpus and OUT/features, linked into every run folder: runs with the same corpus recipe and
vocabulary reuse them; the first run builds them). Results go to
OUT/sweep.jsonl (one line per run, appended) and the table is printed as Markdown.

    python scripts/recipe_sweep.py --out runs/sweep --minutes 9 \
        --run base --run no_aug augment=false --run lr5 finetune_learning_rate=5e-3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

COLUMNS = ("wer_greedy", "cer_greedy", "wer_lm", "cer_lm")


def parse_runs(tokens: list[list[str]]) -> list[tuple[str, list[str]]]:
    """[["name", "k=v", ...], ...] -> [(name, ["k=v", ...])]."""
    runs = []
    for run in tokens:
        if not run:
            raise ValueError("--run needs a name")
        runs.append((run[0], run[1:]))
    return runs


def row_of(name: str, overrides: list[str], report: dict) -> dict:
    seen = report.get("seen_voices") or {}
    return {
        "name": name,
        "overrides": overrides,
        **{key: report[key] for key in COLUMNS},
        "seen_wer_lm": seen.get("wer_lm"),
        "pretrain_steps": report["pretrain_steps"],
        "finetune_steps": report["finetune_steps"],
        "seconds": report["seconds"],
        "finetune_seconds": report["step_seconds"].get("fine-tuning"),
        "plateau_exit_step": plateau_exit_step(report.get("curves", {}).get("fine-tuning", [])),
    }


def plateau_exit_step(curve: list[dict]) -> int | None:
    """First logged fine-tuning step whose CTC loss is below 2.5 (all-blank output sits near 3)."""
    return next((point["step"] for point in curve if point.get("loss", 99.0) < 2.5), None)


def markdown(rows: list[dict]) -> str:
    lines = [
        "| run | settings | WER greedy | CER greedy | WER + LM | CER + LM | seen-voice WER + LM | steps (pre/ft) "
        "| loss < 2.5 at step | s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = " | ".join(f"{100 * r[key]:.1f}%" for key in COLUMNS)
        seen = "–" if r["seen_wer_lm"] is None else f"{100 * r['seen_wer_lm']:.1f}%"
        settings = " ".join(r["overrides"]) or "defaults"
        lines.append(
            f"| {r['name']} | `{settings}` | {cells} | {seen} | {r['pretrain_steps']}/{r['finetune_steps']}"
            f" | {r.get('plateau_exit_step') or '–'} | {r['seconds']:.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--minutes", type=float, default=9.0)
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0, help="the demo's --seed for every run (corpus and training)")
    parser.add_argument("--run", nargs="+", action="append", required=True, metavar=("NAME", "KEY=VALUE"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shared = ("corpus", "features")
    rows = []
    for name, overrides in parse_runs(args.run):
        run_dir = out / name
        run_dir.mkdir(exist_ok=True)
        for name_of_shared in shared:
            if not (run_dir / name_of_shared).is_symlink():
                os.symlink((out / name_of_shared).absolute(), run_dir / name_of_shared)
        command = [
            sys.executable,
            "-m",
            "hf_asr.cli",
            "demo",
            "--out",
            str(run_dir),
            "--minutes",
            str(args.minutes),
            "--preset",
            args.preset,
            "--device",
            args.device,
            "--seed",
            str(args.seed),
        ]
        for pair in overrides:
            command += ["--set", pair]
        started = time.monotonic()
        with open(run_dir / "log.txt", "w") as log:
            result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
        if result.returncode != 0:
            print(f"{name}: failed (exit {result.returncode}); see {run_dir / 'log.txt'}", flush=True)
            continue
        row = row_of(name, overrides, json.loads((run_dir / "report.json").read_text()))
        row["wall_seconds"] = round(time.monotonic() - started, 1)
        rows.append(row)
        with open(out / "sweep.jsonl", "a") as sweep:
            sweep.write(json.dumps(row) + "\n")
        print(markdown([row]).splitlines()[-1], flush=True)
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
