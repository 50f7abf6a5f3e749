"""Subcommands of this area for `hf-asr` (see hf_asr/cli.py): make-corpus, build-vocab."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this area's subcommands; each sets `run=callable(args) -> int`."""
    make = subparsers.add_parser(
        "make-corpus",
        help="speak real sentences with espeak-ng/flite voices into a train/validation/test corpus",
        description="Build a synthetic speech corpus (datasets save_to_disk folder), split by sentence.",
    )
    make.add_argument("--out", required=True, help="output folder (written atomically)")
    make.add_argument("--num-sentences", type=int, required=True)
    make.add_argument("--voices-per-sentence", type=int, required=True)
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--sentences", default=None, help="text file, one sentence per line (default: Debian fortunes)")
    make.add_argument("--noise-snr-db", type=float, default=None, help="add white noise at this SNR")
    make.add_argument("--num-voices", type=int, default=None, help="size of the voice pool")
    make.add_argument("--num-workers", type=int, default=2, help="synthesis processes")
    make.add_argument(
        "--engines", nargs="+", default=["espeak-ng", "flite"], help="TTS engines to draw voices from (also: festival)"
    )
    make.add_argument(
        "--split-fractions", type=float, nargs=3, default=(0.8, 0.1, 0.1), metavar=("TRAIN", "VALID", "TEST")
    )
    make.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    make.set_defaults(run=_make_corpus)

    vocab = subparsers.add_parser(
        "build-vocab",
        help="build the character CTC tokenizer from a corpus' training transcripts",
        description="Write vocab.json + tokenizer files; report characters of other splits that would be unknown.",
    )
    vocab.add_argument(
        "--corpus",
        required=True,
        help="saved dataset, LibriSpeech tree, Common Voice folder, NeMo manifest(s), SpeechBrain CSV(s), audiofolder "
        "or Hub name",
    )
    vocab.add_argument("--corpus-config", default=None, help="configuration (subset) of a Hub dataset")
    vocab.add_argument("--out", required=True, help="folder for the tokenizer files")
    vocab.add_argument("--text-column", default="text")
    vocab.add_argument("--train-split", default="train", help="split whose characters form the vocabulary (a+b: both)")
    add_normalizer_arguments(vocab)
    vocab.set_defaults(run=_build_vocab)


def add_normalizer_arguments(parser: argparse.ArgumentParser) -> None:
    """--numbers, --language, --keep-case: the `TextNormalizer` settings (saved with the vocabulary/model)."""
    from ..modeling.text_normalizer import NUMBER_POLICIES

    policies = "; ".join(f"{name}: {meaning}" for name, meaning in NUMBER_POLICIES.items())
    parser.add_argument("--numbers", choices=sorted(NUMBER_POLICIES), default=None, help=f"default words. {policies}")
    parser.add_argument("--language", default=None, help="num2words language for --numbers words (default en)")
    parser.add_argument("--keep-case", action="store_true", default=None, help="do not lowercase (a cased vocabulary)")


def normalizer_from_args(args: argparse.Namespace, saved: Any = None, where: str = "") -> Any:
    """The `TextNormalizer` of the --numbers/--language/--keep-case options (see `text.chosen_normalizer`)."""
    from .text import chosen_normalizer

    return chosen_normalizer(args.numbers, args.language, args.keep_case, saved, where)


def _make_corpus(args: argparse.Namespace) -> int:
    from .corpus import build_corpus

    start = time.perf_counter()
    corpus = build_corpus(
        args.out,
        num_sentences=args.num_sentences,
        voices_per_sentence=args.voices_per_sentence,
        seed=args.seed,
        sentence_source=args.sentences,
        noise_snr_db=args.noise_snr_db,
        split_fractions=tuple(args.split_fractions),
        num_workers=args.num_workers,
        num_voices=args.num_voices,
        overwrite=args.overwrite,
        engines=tuple(args.engines),
    )
    elapsed = time.perf_counter() - start
    total = sum(len(split) for split in corpus.values())
    hours = sum(sum(split["duration"]) for split in corpus.values()) / 3600
    sizes = ", ".join(f"{name} {len(split)}" for name, split in corpus.items())
    print(f"wrote {args.out}: {sizes} utterances, {hours:.2f} h of audio, {total / elapsed:.1f} utterances/s")
    return 0


def _build_vocab(args: argparse.Namespace) -> int:
    import datasets

    from .layouts import describe_corpus, detect_layout
    from .loading import load_corpus
    from .splits import combine_splits
    from .text import find_unknown_characters
    from .vocab import build_tokenizer

    corpus = load_corpus(args.corpus, config=args.corpus_config, text_column=args.text_column)
    print(describe_corpus(args.corpus, detect_layout(args.corpus), corpus))
    splits = datasets.DatasetDict(corpus if isinstance(corpus, datasets.DatasetDict) else {args.train_split: corpus})
    train = combine_splits(splits, args.train_split, args.corpus)
    # select_columns first: reading a column of the full dataset would decode every audio file.
    raw = {name: list(split.select_columns([args.text_column])[args.text_column]) for name, split in splits.items()}
    train_raw = list(train.select_columns([args.text_column])[args.text_column])
    normalizer = normalizer_from_args(args)

    def normalised(split_texts: list) -> list[str]:
        return [normalizer(text, index, args.text_column) for index, text in enumerate(split_texts)]

    texts = {name: normalised(split_texts) for name, split_texts in raw.items()}
    removed = normalizer.removed_characters(train_raw)
    if removed:
        listed = ", ".join(f"{char!r} x{count}" for char, count in removed.most_common(12))
        print(f"normalisation ({normalizer}) removed from {args.train_split}: {listed}", file=sys.stderr)
    tokenizer = build_tokenizer(normalised(train_raw), out_dir=args.out)
    normalizer.save_pretrained(args.out)
    alphabet = [token for token in tokenizer.get_vocab() if len(token) == 1 and token != tokenizer.word_delimiter_token]
    print(f"wrote {args.out}: {len(tokenizer)} tokens: {''.join(alphabet)!r} + <pad> <unk> |, and its text normaliser")
    for name, split_texts in texts.items():
        unknown = find_unknown_characters(split_texts, alphabet)
        if unknown:
            listed = ", ".join(f"{char!r} x{count}" for char, count in unknown.most_common())
            print(f"{name}: characters that would become <unk>: {listed}")
    return 0
