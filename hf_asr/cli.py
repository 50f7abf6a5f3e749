"""`hf-asr` command line: one subcommand per step of the system, each a thin layer over the library.

Each area of the package owns its subcommands in a `commands.py` module exposing
`register(subparsers)`; this file only assembles them.

User errors: the library raises `ValueError`/`TypeError` (and the `OSError`s of a path the user gave:
missing, already there, a file where a folder is expected) with a message that names the input. `main` prints
such an error as one line `error: ...` on stderr and returns exit code 2, like argparse's own usage errors;
`--debug` lets it propagate with its traceback instead.
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

# Exceptions that mean "this input cannot be used" (the message names it), not a bug of hf_asr.
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError)
USER_ERROR_EXIT_CODE = 2  # as argparse's usage errors


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hf-asr",
        description="Log-mel wav2vec 2.0 speech recognition: corpus, pretraining, CTC fine-tuning, KenLM decoding.",
    )
    parser.add_argument("--version", action="version", version=f"hf-asr {__version__}")
    # Its own dest: TrainingArguments (the pretrain/finetune options) has a `debug` field of its own.
    parser.add_argument("--debug", action="store_true", dest="show_traceback", help="show the traceback of an error")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def error_line(error: BaseException) -> str:
    """The one line printed for a user error: `error: <message>`, its lines joined by '; '."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "error: " + ("; ".join(lines) or type(error).__name__)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.run(args) or 0)
    except USER_ERRORS as error:
        if args.show_traceback:
            raise
        print(error_line(error), file=sys.stderr)
        return USER_ERROR_EXIT_CODE


if __name__ == "__main__":
    sys.exit(main())
