"""Subcommands of this area for `hf-asr` (see hf_asr/cli.py): build-lm, tune-lm, transcribe, evaluate."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from ..data.commands import add_normalizer_arguments, normalizer_from_args
from ..modeling.decoder_options import finite_number, not_negative_number, positive_int


def checked(name: str, check: Callable[[str, Any], Any]) -> Callable[[str], Any]:
    """An argparse `type` that parses a number and checks it with a `decoder_options` check (`finite_number`,
    `positive_int`, ...): a bad value exits 2 with `argument --NAME: NAME must be ..., got VALUE`."""

    def parse(text: str) -> Any:
        try:
            number = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        try:
            return check(name, number)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from error

    parse.__name__ = name
    return parse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this area's subcommands; each sets `run=callable(args) -> int`."""
    build = subparsers.add_parser(
        "build-lm",
        help="train a KenLM n-gram LM on text (normalised like transcripts); optionally attach it to a model",
        description="lmplz + build_binary -> OUT/lm.bin and OUT/unigrams.txt.",
    )
    source = build.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="text file, one sentence per line")
    source.add_argument("--dataset", help="corpus, as build-vocab --corpus takes (see --split)")
    build.add_argument("--text-column", default="text")
    build.add_argument("--split", default="train", help="split of a DatasetDict to read ('all' for every split)")
    build.add_argument("--order", type=checked("order", positive_int), default=4, help="n-gram order (default 4)")
    build.add_argument("--out", required=True, help="output folder for lm.bin and unigrams.txt")
    build.add_argument("--memory", default="1G", help="lmplz sorting memory, e.g. 1G or 10%% (default 1G)")
    build.add_argument("--keep-arpa", action="store_true", help="also keep the ARPA file")
    build.add_argument(
        "--no-ngram-tables",
        action="store_true",
        help="skip ngram_tables.npz (the LM as arrays for beam_search=batched; ~10 s per million n-grams to make)",
    )
    build.add_argument(
        "--model", help="model folder: normalise the text with its normaliser, and save an LM decoder into it"
    )
    add_normalizer_arguments(build)
    build.add_argument(
        "--alpha",
        type=checked("alpha", finite_number),
        default=0.5,
        help="LM weight written with --model (default 0.5)",
    )
    build.add_argument(
        "--beta", type=checked("beta", finite_number), default=1.0, help="word bonus written with --model (default 1.0)"
    )
    build.set_defaults(run=_build_lm)

    tune = subparsers.add_parser(
        "tune-lm",
        help="grid-search alpha (LM weight) and beta (word bonus) on a dev split; save the best into the model",
        description="Computes the dev logits once, decodes every grid point in parallel, writes attrs.json.",
    )
    tune.add_argument("--model", required=True, help="model folder with a saved LM decoder")
    tune.add_argument("--dataset", required=True, help="corpus, as build-vocab --corpus takes")
    tune.add_argument("--split", default="validation")
    tune.add_argument("--text-column", default="text")
    tune.add_argument("--audio-column", default="audio")
    alpha, beta = checked("alpha", finite_number), checked("beta", finite_number)
    tune.add_argument("--alphas", type=alpha, nargs="+", default=None, help="grid of alpha values")
    tune.add_argument("--betas", type=beta, nargs="+", default=None, help="grid of beta values")
    count = {name: checked(name, positive_int) for name in ("beam_width", "max_utterances", "num_processes")}
    tune.add_argument("--beam-width", type=count["beam_width"], help="beam width while tuning (default: saved)")
    tune.add_argument("--max-utterances", type=count["max_utterances"], help="use only the first N utterances")
    tune.add_argument("--num-processes", type=count["num_processes"], help="decoding processes (default: CPUs)")
    tune.add_argument("--dry-run", action="store_true", help="print the grid but do not write the result")
    tune.set_defaults(run=_tune_lm)

    trans = subparsers.add_parser(
        "transcribe",
        help="transcribe audio files with a model folder (uses its LM when it has one)",
        description="Runs transformers' ASR pipeline on each file.",
    )
    trans.add_argument("files", nargs="+", help="audio files (wav, flac, ...)")
    trans.add_argument("--model", required=True, help="model folder")
    trans.add_argument("--no-lm", action="store_true", help="greedy CTC even if the folder has an LM")
    trans.add_argument("--timestamps", action="store_true", help="word timestamps (seconds)")
    trans.add_argument("--json", action="store_true", help="print one JSON object per file")
    trans.add_argument(
        "--chunk-length-s",
        type=checked("chunk_length_s", not_negative_number),
        help="chunk length (seconds); default: 20 s chunks for files over a minute, whole shorter files; 0: never",
    )
    trans.add_argument("--batch-size", type=checked("batch_size", positive_int), default=1)
    trans.add_argument("--backend", choices=("pyctcdecode", "flashlight"), default="pyctcdecode", help="LM search")
    trans.set_defaults(run=_transcribe)

    evaluate = subparsers.add_parser(
        "evaluate",
        help="WER/CER of a model folder on a corpus split, greedy and (when the folder has one) with its LM",
        description="Transcribes the split greedy and with the folder's LM; prints WER/CER and writes "
        "eval_results.json.",
    )
    evaluate.add_argument("--model", required=True, help="model folder (as `hf-asr finetune` writes: OUTPUT_DIR/model)")
    evaluate.add_argument("--corpus", required=True, help="corpus, as `hf-asr finetune --corpus` takes")
    evaluate.add_argument("--split", default="test", help="split to evaluate (default test)")
    evaluate.add_argument("--audio_column", "--audio-column", default="audio", help="audio column (default audio)")
    evaluate.add_argument("--text_column", "--text-column", default="text", help="transcript column (default text)")
    evaluate.add_argument("--output_dir", "--output-dir", help="folder for eval_results.json (default: --model)")
    evaluate.add_argument(
        "--num_processes", "--num-processes", type=count["num_processes"], help="LM decoding processes (default: CPUs)"
    )
    evaluate.add_argument(
        "--batch_size", "--batch-size", type=checked("batch_size", positive_int), default=16, help="default 16"
    )
    evaluate.set_defaults(run=_evaluate)


def _build_lm(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..training.run_folder import refuse_run_folder
    from .lm_building import build_lm, read_unigrams

    if args.model:
        refuse_run_folder(args.model, "--model")
    if args.model and not (Path(args.model) / "tokenizer_config.json").is_file():  # checked before the LM is built
        raise FileNotFoundError(f"--model {args.model} is not a model folder (no tokenizer_config.json there)")
    saved = None
    if args.model:
        from ..modeling.text_normalizer import TextNormalizer

        saved = TextNormalizer.of_model_folder(args.model)
    normalizer = normalizer_from_args(args, saved, where=f"--model {args.model}")
    files = build_lm(
        args.text or args.dataset,
        args.out,
        order=args.order,
        text_column=args.text_column,
        split=None if args.split == "all" else args.split,
        memory=args.memory,
        keep_arpa=args.keep_arpa,
        normalizer=normalizer,
        ngram_tables=not args.no_ngram_tables,
    )
    print(f"{args.order}-gram LM on {files.num_sentences} sentences, {files.num_words} words: {files.binary}")
    if args.model:
        from transformers import AutoTokenizer

        from ..modeling.lm_decoder import LMDecoder

        tokenizer = AutoTokenizer.from_pretrained(args.model)
        decoder = LMDecoder.from_tokenizer(
            tokenizer,
            files.binary,
            unigrams=read_unigrams(files.unigrams),
            alpha=args.alpha,
            beta=args.beta,
            ngram_tables=files.ngram_tables,
        )
        decoder.save_pretrained(args.model)
        print(
            f"LM decoder saved into {args.model} (alpha={args.alpha}, beta={args.beta}); tune it with `hf-asr tune-lm`"
        )
    return 0


def _tune_lm(args: argparse.Namespace) -> int:
    from transformers import AutoModelForCTC, AutoProcessor

    from ..data.layouts import describe_corpus, detect_layout
    from ..data.loading import load_corpus
    from ..modeling.lm_decoder import LMDecoder
    from ..training.run_folder import refuse_run_folder
    from .evaluation import evaluate_ctc
    from .tuning import DEFAULT_ALPHAS, DEFAULT_BETAS, tune_alpha_beta

    refuse_run_folder(args.model, "--model")
    decoder = LMDecoder.from_pretrained(args.model)
    model = AutoModelForCTC.from_pretrained(args.model)
    processor = AutoProcessor.from_pretrained(args.model)
    corpus = load_corpus(args.dataset, split=args.split, audio_column=args.audio_column, text_column=args.text_column)
    print(describe_corpus(args.dataset, detect_layout(args.dataset), corpus))
    if args.max_utterances:
        corpus = corpus.select(range(min(args.max_utterances, len(corpus))))
    evaluation = evaluate_ctc(model, processor, corpus, text_column=args.text_column, audio_column=args.audio_column)
    search = {"beam_width": args.beam_width} if args.beam_width else {}
    result = tune_alpha_beta(
        decoder,
        evaluation.logits,
        evaluation.references,
        alphas=args.alphas or DEFAULT_ALPHAS,
        betas=args.betas or DEFAULT_BETAS,
        num_processes=args.num_processes,
        **search,
    )
    print(f"WER (%) on {len(evaluation.references)} utterances of {args.dataset} [{args.split}]:")
    print(result.table())
    print(f"greedy (no LM): {100 * evaluation.scores['wer_greedy']:.2f}%")
    print(f"best: alpha={result.alpha:g} beta={result.beta:g} WER={100 * result.wer:.2f}%")
    if not args.dry_run:
        decoder.set_params(alpha=result.alpha, beta=result.beta)
        decoder.save_params(args.model)
        print(f"written to {args.model}/language_model/attrs.json")
    return 0


def _transcribe(args: argparse.Namespace) -> int:
    from ..training.run_folder import refuse_run_folder
    from .transcribe import transcribe

    refuse_run_folder(args.model, "--model")
    results = transcribe(
        args.files,
        args.model,
        use_lm=not args.no_lm,
        timestamps=args.timestamps,
        chunk_length_s=args.chunk_length_s,
        batch_size=args.batch_size,
        backend=args.backend,
    )
    for result in results:
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
            continue
        print(f"{result['file']}: {result['text']}")
        for chunk in result.get("chunks", []):
            start, end = chunk["timestamp"]
            print(f"  {start:7.2f} {end:7.2f}  {chunk['text']}")
    sys.stdout.flush()
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from ..data.loading import load_corpus
    from ..hub import load_model_folder
    from ..modeling.atomic_write import atomic_write_text
    from ..training.run_folder import refuse_run_folder
    from .evaluation import evaluate_ctc

    split = load_corpus(args.corpus, split=args.split, audio_column=args.audio_column, text_column=args.text_column)
    refuse_run_folder(args.model, "--model")
    model, processor = load_model_folder(args.model)  # with its LM decoder when it has one
    if torch.cuda.is_available():
        model.to("cuda")
    if processor.decoder is None:
        print(
            f"{args.model} has no LM: greedy decoding only (`hf-asr build-lm --text TEXT --out LM_DIR --model "
            f"{args.model}` adds one)"
        )
    evaluation = evaluate_ctc(
        model,
        processor,
        split,
        processor.decoder,
        text_column=args.text_column,
        audio_column=args.audio_column,
        batch_size=args.batch_size,
        num_processes=args.num_processes,
    )
    scores = evaluation.scores
    print(f"WER/CER on {len(evaluation.references)} utterances of {args.corpus} [{args.split}]:")
    for name, suffix in (("greedy", "greedy"), ("with the LM", "lm")):
        if f"wer_{suffix}" in scores:
            print(f"  {name:12s} WER {100 * scores[f'wer_{suffix}']:6.2f}%   CER {100 * scores[f'cer_{suffix}']:6.2f}%")
    results = {
        "model": str(args.model),
        "corpus": str(args.corpus),
        "split": args.split,
        "eval_samples": len(evaluation.references),
        **{f"eval_{name}": value for name, value in scores.items()},
    }
    out = Path(args.output_dir or args.model)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "eval_results.json", json.dumps(results, indent=4) + "\n")
    print(f"written to {out / 'eval_results.json'}")
    return 0
