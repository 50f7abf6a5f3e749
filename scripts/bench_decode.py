"""Benchmark LM decoding: per-utterance pyctcdecode (baseline) vs hf_asr's parallel LMDecoder vs flashlight.

Logits are simulated CTC posteriors for real sentences (Debian fortunes): peaky (most frames blank, ~3.5 frames
per character at 20 ms), with acoustic confusions between similar letters, smeared spikes, weak letters and
missed word boundaries, so greedy decoding makes word errors that a 4-gram KenLM (trained on other fortunes)
can fix. Test sentences are held out of the LM text but use only words it knows (closed vocabulary), so the
lexicon-constrained flashlight decoder is compared fairly. Every decoder sees the same logits.

    .venv/bin/python scripts/bench_decode.py [--num-utterances 120] [--beams 10 50 100] [--num-processes 2]

With `--model FOLDER` the logits are real instead: that trained model's posteriors on the test utterances of a
demo corpus (`--corpus`, default the `corpus/` beside the model), decoded with the folder's own LM and labels
(open vocabulary, so the lexicon-constrained flashlight rows are left out). `--save-data DIR` keeps the logits,
references, LM and labels of either kind, and `--data DIR` decodes them elsewhere (a GPU machine without the
corpus or the model: `scripts/gpu_prepare.sh`).

Each row runs `--repeats` times (default 3) and reports the median, so one-off costs (a lazily loaded search,
the first fork) and a passing load on the machine do not decide it. Wall time is what the speedups use; CPU
seconds (this process + its workers) are recorded too, because on a shared machine other jobs inflate wall
time. Results go to bench_results/decode.json (--out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
import torch
from pyctcdecode import build_ctcdecoder

from hf_asr.decoding.tuning import greedy_wer
from hf_asr.modeling.ctc_labels import UNK_LABEL
from hf_asr.modeling.frame_skipping import skip_repeated_frames
from hf_asr.modeling.lm_decoder import LMDecoder
from hf_asr.modeling.ngram_tables import NGRAM_TABLES_FILE

LABELS = ["", UNK_LABEL, " ", "'"] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
FRAME_SECONDS = 0.02
# Letters a listener (or an acoustic model) confuses: each letter's competitors.
CONFUSABLE = ["aeiou", "bp", "dt", "gk", "mn", "fv", "sz", "cks", "lr", "wv", "yi", "hf", "jg", "qk", "xs"]


def confusions() -> dict[str, str]:
    table: dict[str, str] = {}
    for group in CONFUSABLE:
        for letter in group:
            table[letter] = table.get(letter, "") + group.replace(letter, "")
    return table


def simulate(text: str, rng: np.random.Generator, confusion_rate: float = 0.15) -> np.ndarray:
    """(T, V) log-probs of a CTC model 'hearing' `text` (see the module docstring)."""
    index = {label: i for i, label in enumerate(LABELS)}
    similar = confusions()
    rows: list[np.ndarray] = []

    def frame(peaks: dict[int, float]) -> np.ndarray:
        row = rng.normal(-2.0, 1.5, len(LABELS))
        for i, value in peaks.items():
            row[i] = value
        return row

    for char in text:
        k = index[char]
        if char == " " and rng.random() < 0.08:  # missed word boundary
            continue
        weak = rng.random() < 0.03
        for _ in range(1 + (rng.random() < 0.35)):
            peaks = {k: rng.uniform(7, 11) - (6 if weak else 0), 0: rng.uniform(3, 7)}
            if char in similar and rng.random() < confusion_rate:
                rival = index[rng.choice(list(similar[char]))]
                peaks[rival] = peaks[k] + rng.normal(0.3, 1.2)
            rows.append(frame(peaks))
        for j in range(rng.geometric(0.45)):  # blank run; the first blank frame is smeared with the letter
            peaks = {0: rng.uniform(8, 13)}
            if j == 0 and rng.random() < 0.5:
                peaks[k] = rng.uniform(3, 8)
            rows.append(frame(peaks))
    logits = np.asarray(rows)
    return (logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)).astype(np.float32)


def make_data(work: Path, num_utterances: int, seed: int) -> tuple[list[str], list[np.ndarray], Path, list[str]]:
    """Held-out in-vocabulary fortunes grouped into ~10 s utterances, their simulated logits, and the LM."""
    from hf_asr.data.sentences import load_sentences  # needs Debian's fortunes
    from hf_asr.decoding.lm_building import build_lm, read_unigrams  # needs lmplz/build_binary

    sentences = load_sentences(None, seed=seed)
    held_out, lm_text = sentences[:3000], sentences[3000:]
    (work / "lm.txt").write_text("\n".join(lm_text) + "\n")
    files = build_lm(work / "lm.txt", work / "lm", order=4)
    unigrams = read_unigrams(files.unigrams)
    vocabulary = set(unigrams)
    in_vocab = [s for s in held_out if set(s.split()) <= vocabulary]
    rng = np.random.default_rng(seed)
    references, logits, i = [], [], 0
    while len(references) < num_utterances and i < len(in_vocab):
        words: list[str] = []
        while len(" ".join(words)) < 140 and i < len(in_vocab):  # ~10 s of speech at ~14 characters/s
            words += in_vocab[i].split()
            i += 1
        references.append(" ".join(words))
        logits.append(simulate(references[-1], rng))
    return references, logits, files.binary, unigrams


def save_data(
    directory: Path, references: list[str], logits: list[np.ndarray], lm_path: Path, meta: dict[str, Any]
) -> None:
    """Keep the utterances' logits, references and the LM, to rerun the same benchmark elsewhere (`--data`);
    `meta` (data.json) holds the labels, the LM weights and where the logits came from."""
    directory.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(directory / "logits.npz", *logits)
    (directory / "references.txt").write_text("\n".join(references) + "\n")
    shutil.copyfile(lm_path, directory / "lm.bin")
    shutil.copyfile(lm_path.with_name("unigrams.txt"), directory / "unigrams.txt")
    (directory / "data.json").write_text(json.dumps(meta, indent=1))


def load_data(directory: Path) -> tuple[list[str], list[np.ndarray], Path, list[str], dict[str, Any]]:
    """What `save_data` wrote; folders without data.json hold simulated logits over `LABELS`."""
    with np.load(directory / "logits.npz") as arrays:
        logits = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
    references = (directory / "references.txt").read_text().splitlines()
    meta_file = directory / "data.json"
    meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {"labels": LABELS, "source": "simulated"}
    return references, logits, directory / "lm.bin", (directory / "unigrams.txt").read_text().split(), meta


def model_data(model_dir: Path, corpus_dir: Path, num_utterances: int) -> tuple[list[str], list[np.ndarray], Any]:
    """The normalised references of a demo corpus' test split, a trained model's log-probs (T_i, V) on it, and the
    model folder's saved decoder (`read_decoder_folder`: labels, LM binary, unigrams, tuned alpha/beta)."""

    from hf_asr.data.loading import load_corpus
    from hf_asr.data.text import normalize_transcript
    from hf_asr.decoding.evaluation import split_audio
    from hf_asr.decoding.inference import compute_logits
    from hf_asr.hub import load_model_folder
    from hf_asr.modeling.lm_decoder_folder import read_decoder_folder

    model, processor = load_model_folder(model_dir)
    test = load_corpus(corpus_dir, split="test")
    test = test.select(range(min(num_utterances, len(test))))
    waveforms, rate = split_audio(test)
    logits = compute_logits(model, processor.feature_extractor, waveforms, rate)
    log_probs = [torch.log_softmax(torch.from_numpy(x), dim=-1).numpy() for x in logits]
    references = [normalize_transcript(text) for text in test["text"]]
    return references, log_probs, read_decoder_folder(model_dir)


def timed(fn) -> tuple[list[str], float, float]:
    """(texts, wall seconds, CPU seconds of this process and of the workers it waited for)."""
    before, start = os.times(), time.perf_counter()
    texts = fn()
    wall, after = time.perf_counter() - start, os.times()
    cpu = sum(getattr(after, f) - getattr(before, f) for f in ("user", "system", "children_user", "children_system"))
    return texts, wall, cpu


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        labels, source = LABELS, "simulated"
        tables = None
        if args.model:
            corpus = Path(args.corpus) if args.corpus else Path(args.model).parent / "corpus"
            references, logits, folder = model_data(Path(args.model), corpus, args.num_utterances)
            lm_path, unigrams, labels = Path(folder.kenlm_path), list(folder.unigrams), list(folder.labels)
            tables = folder.ngram_tables or (Path(args.ngram_tables) if args.ngram_tables else None)
            args.alpha, args.beta = folder.lm_params["alpha"], folder.lm_params["beta"]  # the folder's tuned weights
            source = f"real: {args.model} on the test split of {corpus}"
        elif args.data:
            references, logits, lm_path, unigrams, meta = load_data(Path(args.data))
            labels, source = meta["labels"], meta["source"]
            args.alpha, args.beta = meta.get("alpha", args.alpha), meta.get("beta", args.beta)
        else:
            references, logits, lm_path, unigrams = make_data(Path(tmp), args.num_utterances, args.seed)
        if tables is None and lm_path.with_name(NGRAM_TABLES_FILE).is_file():
            tables = lm_path.with_name(NGRAM_TABLES_FILE)
        if args.save_data:
            meta = {"labels": labels, "source": source, "alpha": args.alpha, "beta": args.beta}
            save_data(Path(args.save_data), references, logits, lm_path, meta)
            if tables is not None:
                shutil.copyfile(tables, Path(args.save_data) / NGRAM_TABLES_FILE)
        audio_seconds = sum(len(x) for x in logits) * FRAME_SECONDS
        stats = np.concatenate(logits)
        blank = labels.index("")
        report: dict = {
            "machine": {
                "cpus": os.cpu_count(),
                "load_average_before": os.getloadavg(),
                "python": platform.python_version(),
            },
            "data": {
                "logits": source,
                "utterances": len(references),
                "audio_seconds": round(audio_seconds, 1),
                "frames": int(len(stats)),
                "frames_with_one_candidate_above_-5": round(float(((stats >= -5).sum(1) <= 1).mean()), 3),
                "mean_candidates_above_-5": round(float((stats >= -5).sum(1).mean()), 2),
                # what frame skipping leaves to search: exact, and with each --blank-skip-logp
                "frames_kept": {
                    str(skip): round(
                        sum(len(skip_repeated_frames(x, -5.0, blank, skip).log_probs) for x in logits) / len(stats), 3
                    )
                    for skip in (None, *args.blank_skip_logp)
                },
                "greedy_wer": round(greedy_wer(logits, references, labels), 4),
                "lm": {"order": 4, "unigrams": len(unigrams), "file_mb": round(lm_path.stat().st_size / 2**20, 1)},
            },
            "settings": {"alpha": args.alpha, "beta": args.beta, "num_processes": args.num_processes},
            "results": [],
        }
        baseline = build_ctcdecoder(labels, str(lm_path), unigrams=unigrams, alpha=args.alpha, beta=args.beta)
        ours = LMDecoder(labels, lm_path, unigrams, alpha=args.alpha, beta=args.beta, ngram_tables=tables)
        if tables is None:
            print(f"batched rows skipped: no {NGRAM_TABLES_FILE} (rebuild the LM with `hf-asr build-lm`)")
        flashlight_factory = None if source != "simulated" else _flashlight(labels, lm_path, unigrams, args)
        n = args.num_processes
        for beam in args.beams:
            runs = {
                "pyctcdecode per-utterance (baseline)": lambda b=beam: [
                    baseline.decode(x, beam_width=b) for x in logits
                ],
                "hf_asr LMDecoder, 1 process (exact)": lambda b=beam: (
                    ours.decode_batch(logits, num_processes=1, beam_width=b).text
                ),
                f"hf_asr LMDecoder, {n} processes (exact)": lambda b=beam: (
                    ours.decode_batch(logits, num_processes=n, beam_width=b).text
                ),
                f"hf_asr LMDecoder, {n} processes, beam_prune_logp=-7": lambda b=beam: (
                    ours.decode_batch(logits, num_processes=n, beam_width=b, beam_prune_logp=-7.0).text
                ),
            }
            for skip in args.blank_skip_logp:
                runs[f"hf_asr LMDecoder, {n} processes, blank_skip_logp={skip}"] = lambda b=beam, s=skip: (
                    ours.decode_batch(logits, num_processes=n, beam_width=b, blank_skip_logp=s).text
                )
            if tables is not None:
                for processes in (1, n):
                    runs[f"hf_asr batched (tensor LM), {processes} process(es)"] = lambda b=beam, p=processes: (
                        ours.decode_batch(logits, num_processes=p, beam_width=b, beam_search="batched").text
                    )
                for skip in args.blank_skip_logp:
                    runs[f"hf_asr batched (tensor LM), {n} process(es), blank_skip_logp={skip}"] = (
                        lambda b=beam, s=skip: (
                            ours.decode_batch(
                                logits, num_processes=n, beam_width=b, beam_search="batched", blank_skip_logp=s
                            ).text
                        )
                    )
                if torch.cuda.is_available():
                    runs["hf_asr batched (tensor LM), cuda"] = lambda b=beam: (
                        ours.to("cuda").decode_batch(logits, beam_width=b, beam_search="batched").text
                    )
            if flashlight_factory is not None:
                flashlight = flashlight_factory(beam)
                runs["hf_asr flashlight backend, 1 process"] = lambda d=flashlight: (
                    d.decode_batch(logits, num_processes=1).text
                )
                runs[f"hf_asr flashlight backend, {n} processes"] = lambda d=flashlight: (
                    d.decode_batch(logits, num_processes=n).text
                )
            base_wer = base_speed = base_cpu = None
            for name, fn in runs.items():
                trials = [timed(fn) for _ in range(args.repeats)]
                texts = trials[0][0]
                seconds = float(np.median([wall for _, wall, _ in trials]))
                cpu_seconds = float(np.median([cpu for _, _, cpu in trials]))
                wer = float(jiwer.wer(references, texts))
                speed = len(logits) / seconds
                if base_wer is None:
                    base_wer, base_speed, base_texts, base_cpu = wer, speed, texts, cpu_seconds
                row = {
                    "decoder": name,
                    "beam": beam,
                    "seconds": round(seconds, 3),
                    "cpu_seconds": round(cpu_seconds, 3),
                    "utterances_per_s": round(speed, 2),
                    "real_time_factor": round(seconds / audio_seconds, 5),
                    "wer": round(wer, 4),
                    "relative_wer_change": round((wer - base_wer) / base_wer, 4) if base_wer else 0.0,
                    "speedup": round(speed / base_speed, 2),
                    # CPU-time ratio: immune to other jobs on a shared machine (meaningful for 1-process rows)
                    "cpu_time_speedup": round(base_cpu / cpu_seconds, 2),
                    "same_text_as_baseline": sum(a == b for a, b in zip(texts, base_texts)) / len(texts),
                }
                report["results"].append(row)
                print(json.dumps(row), flush=True)
        report["machine"]["load_average_after"] = os.getloadavg()
    return report


def _flashlight(labels, lm_path, unigrams, args):
    """A factory of flashlight decoders per beam width, or None when flashlight-text is not installed."""
    try:
        from hf_asr.decoding.flashlight_decoder import FlashlightLMDecoder

        FlashlightLMDecoder(labels, lm_path, unigrams[:10], beam_width=1)
    except ImportError as error:
        print(f"flashlight backend skipped: {error}")
        return None
    return lambda beam: FlashlightLMDecoder(
        labels,
        lm_path,
        unigrams,
        alpha=args.alpha,
        beta=args.beta,
        beam_width=beam,
        beam_size_token=args.flashlight_beam_size_token,
        beam_threshold=args.flashlight_beam_threshold,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-utterances", type=int, default=120)
    parser.add_argument("--beams", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--num-processes", type=int, default=os.cpu_count())
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument("--flashlight-beam-size-token", type=int, default=5)
    parser.add_argument("--flashlight-beam-threshold", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per row; the median time counts (the first run also loads)"
    )
    parser.add_argument("--out", default="bench_results/decode.json")
    parser.add_argument("--save-data", help="also save the logits (simulated or --model's), references, LM here")
    parser.add_argument("--data", help="use logits/references/LM saved by --save-data instead of building them")
    parser.add_argument("--model", help="trained model folder with language_model/: decode its real posteriors")
    parser.add_argument("--corpus", help="demo corpus folder for --model (default: corpus/ beside the model)")
    parser.add_argument(
        "--blank-skip-logp",
        type=float,
        nargs="*",
        default=[-0.01],
        help="add rows of the batched search (and the 2-process LMDecoder) with these blank_skip_logp values "
        "(approximate: runs of near-certain blank frames decoded as one)",
    )
    parser.add_argument(
        "--ngram-tables", help=f"{NGRAM_TABLES_FILE} of the --model's LM when its folder has none (older folders)"
    )
    args = parser.parse_args()
    report = run(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
