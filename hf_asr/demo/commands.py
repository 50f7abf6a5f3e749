"""`hf-asr demo`: the whole system end to end (see hf_asr/demo/run.py)."""

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run every step end to end (corpus, pretraining, fine-tuning, LM, evaluation, pipeline, plots)",
        description="Speaks (or reuses) a TTS corpus, pretrains, fine-tunes, builds and tunes a KenLM, evaluates on "
        "new sentences by unseen voices, saves a Hub-ready folder and writes DIR/report.json, DIR/report.md and "
        "DIR/plots/*.png.",
    )
    parser.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument(
        "--preset",
        default="auto",
        choices=["auto", "cpu", "gpu"],
        help="model and corpus size (auto: gpu when CUDA is there)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minutes", type=float, default=15.0, help="time budget; training fits itself into it")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a demo setting (hf_asr.demo.settings.DemoSettings), VALUE as JSON, e.g. pretrain_share=0 "
        "or model='{\"num_hidden_layers\": 6}' or corpus='{\"train_sentences\": 3000}'; repeatable",
    )
    parser.set_defaults(run=_run)


def parse_overrides(pairs: list[str]) -> dict:
    """["a=1", "b=text"] -> {"a": 1, "b": "text"}: values are JSON when they parse, else strings."""
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def _run(args: argparse.Namespace) -> int:
    from .run import run_demo
    from .settings import demo_settings

    overrides = parse_overrides(args.set)
    options = {"out": args.out, "seed": args.seed, "minutes": args.minutes}
    given_twice = sorted(set(overrides) & {*options, "preset", "device"})
    if given_twice:
        raise ValueError(f"--set {given_twice[0]}=...: {given_twice[0]} is an option of its own, --{given_twice[0]}")
    settings = demo_settings(args.preset, args.device, **options, **overrides)
    report = run_demo(settings)
    print(
        f"[demo] new sentences, unseen voices: WER greedy {100 * report['wer_greedy']:.1f}% -> with LM "
        f"{100 * report['wer_lm']:.1f}% (CER {100 * report['cer_greedy']:.1f}% -> {100 * report['cer_lm']:.1f}%), "
        f"{report['seconds']:.0f} s; report: {args.out}/report.md"
    )
    return 0
