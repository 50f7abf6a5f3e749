"""Subcommands of this area for `hf-asr` (see hf_asr/cli.py)."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this area's subcommands; each sets `run=callable(args) -> int`."""
