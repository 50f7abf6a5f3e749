"""`hf-asr demo`: the whole system end to end (see hf_asr/demo/run.py)."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run every step end to end (corpus, pretraining, fine-tuning, LM, evaluation, pipeline, plots)",
        description="Builds a TTS corpus, pretrains, fine-tunes, builds and tunes a KenLM, evaluates on test, "
        "saves a Hub-ready folder and writes DIR/report.json, DIR/report.md and DIR/plots/*.png.",
    )
    parser.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minutes", type=float, default=15.0, help="time budget; training stops to fit it")
    parser.add_argument("--num-sentences", type=int, help="sentences in the corpus (default 900)")
    parser.add_argument("--voices-per-sentence", type=int, help="voices speaking each sentence (default 2)")
    parser.add_argument("--pretrain-steps", type=int, help="at most this many pretraining steps (default 400)")
    parser.add_argument("--finetune-steps", type=int, help="at most this many fine-tuning steps (default: what fits)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from .run import DemoSettings, run_demo

    settings = DemoSettings(out=args.out, device=args.device, seed=args.seed, minutes=args.minutes)
    for name in ("num_sentences", "voices_per_sentence", "pretrain_steps", "finetune_steps"):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))
    report = run_demo(settings)
    print(
        f"[demo] test WER greedy {100 * report['wer_greedy']:.1f}% -> with LM {100 * report['wer_lm']:.1f}% "
        f"(CER {100 * report['cer_greedy']:.1f}% -> {100 * report['cer_lm']:.1f}%), {report['seconds']:.0f} s; "
        f"report: {args.out}/report.md"
    )
    return 0
