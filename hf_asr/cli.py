"""`hf-asr` command line: one subcommand per step of the system, each a thin layer over the library.

Each area of the package owns its subcommands in a `commands.py` module exposing
`register(subparsers)`; this file only assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .version import __version__

# Modules that add subcommands, in the order a user runs the steps.
COMMAND_MODULES = (
    "hf_asr.data.commands",  # make-corpus, build-vocab
    "hf_asr.training.commands",  # pretrain, finetune
    "hf_asr.decoding.commands",  # build-lm, tune-lm, transcribe
    "hf_asr.demo.commands",  # demo
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hf-asr",
        description="Log-mel wav2vec 2.0 speech recognition: corpus, pretraining, CTC fine-tuning, KenLM decoding.",
    )
    parser.add_argument("--version", action="version", version=f"hf-asr {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
