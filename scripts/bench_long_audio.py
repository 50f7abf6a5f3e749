"""Time one long file through `pipeline("automatic-speech-recognition")`: greedy against the saved LM, the old
behaviour (one beam search over the whole file; no chunking unless asked) against the new (segments cut at pauses,
decoded in parallel; files over a minute chunked by default), with `chunk_length_s=20` and without it.

    .venv/bin/python scripts/bench_long_audio.py [--model runs/demo/model] [--corpus runs/demo/corpus]
        [--audio long.wav] [--minutes 10] [--configs NAME ...] [--out runs/bench_long_audio.json]

Audio: `--audio`, else the test utterances of a demo corpus (`--corpus`, or the `corpus/` beside `--model`)
joined by 0.4 s pauses, else fortune sentences spoken by espeak-ng. Without `--model`, a small untrained model
(peaky random outputs) and a 4-gram LM on other fortunes are built only to time the machinery: its transcripts are
noise and its beam-search cost is not a trained model's (the JSON's "model" says so).

Each configuration runs in a process of its own, so that its peak RSS is its own (its decoding workers' peak is
reported too). The WER of each new LM transcript against the old one with the same chunking measures agreement;
the WER against the spoken text is reported when that is known. JSON to --out; a markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

SAMPLING_RATE = 16_000
PAUSE_S = 0.4
OLD_DECODING = {"max_segment_frames": None, "num_processes": 1}  # what LMDecoder did before segmenting


@dataclass(frozen=True)
class Config:
    """One way to transcribe the file. chunk_length_s: None = not given (the new default chunks files over a
    minute), 0 = the whole file at once (the old default). greedy / old_lm: the configurations this one's time and
    text are compared with (the same forward passes; the same chunking decoded the old way)."""

    uses_lm: bool
    chunk_length_s: float | None
    old_decoding: bool = False
    greedy: str | None = None
    old_lm: str | None = None


GREEDY_20, LM_OLD_20 = "greedy, chunk_length_s=20", "LM old, chunk_length_s=20"
GREEDY_WHOLE, LM_OLD_WHOLE = "greedy old, no chunk_length_s (whole file)", "LM old, no chunk_length_s (whole file)"
GREEDY_AUTO = "greedy new, no chunk_length_s (auto 20 s chunks)"
CONFIGS = {
    GREEDY_20: Config(False, 20.0),
    LM_OLD_20: Config(True, 20.0, old_decoding=True, greedy=GREEDY_20),
    "LM new, chunk_length_s=20": Config(True, 20.0, greedy=GREEDY_20, old_lm=LM_OLD_20),
    GREEDY_WHOLE: Config(False, 0.0),
    LM_OLD_WHOLE: Config(True, 0.0, old_decoding=True, greedy=GREEDY_WHOLE),
    GREEDY_AUTO: Config(False, None),
    "LM new, no chunk_length_s (auto chunks, segments)": Config(True, None, greedy=GREEDY_AUTO, old_lm=LM_OLD_WHOLE),
    "LM segments only, whole file": Config(True, 0.0, greedy=GREEDY_WHOLE, old_lm=LM_OLD_WHOLE),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="trained model folder with language_model/ (default: untrained)")
    parser.add_argument("--corpus", type=Path, help="demo corpus folder whose test utterances make the audio")
    parser.add_argument("--audio", type=Path, help="a long audio file to use instead")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the audio made (default 10)")
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--out", type=Path, default=Path("runs/bench_long_audio.json"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run one configuration, print JSON
    return parser.parse_args()


def corpus_audio(corpus: Path, seconds: float) -> tuple[np.ndarray, str]:
    """Test utterances of a demo corpus joined by pauses until `seconds` long, and their normalised text."""
    from hf_asr.data.loading import load_corpus
    from hf_asr.data.text import normalize_transcript

    test = load_corpus(corpus, split="test")
    pieces, texts, total = [], [], 0.0
    while total < seconds:  # a small test split is used again, as a long recording repeats itself too
        for example in test:
            pieces += [np.asarray(example["audio"]["array"], dtype=np.float32), np.zeros(int(PAUSE_S * SAMPLING_RATE))]
            texts.append(normalize_transcript(example["text"]))
            total += len(pieces[-2]) / SAMPLING_RATE + PAUSE_S
            if total >= seconds:
                break
    return np.concatenate(pieces).astype(np.float32), " ".join(texts)


def spoken_audio(sentences: list[str], seconds: float) -> tuple[np.ndarray, str]:
    """`sentences` spoken by espeak-ng (en-us) and joined by pauses until `seconds` long, and their text."""
    from hf_asr.data.tts import ESPEAK, Voice, synthesize

    voice, pieces, texts, total = Voice(ESPEAK, "en-us"), [], [], 0.0
    for sentence in sentences:
        pieces += [synthesize(sentence, voice), np.zeros(int(PAUSE_S * SAMPLING_RATE), dtype=np.float32)]
        texts.append(sentence)
        total += len(pieces[-2]) / SAMPLING_RATE + PAUSE_S
        if total >= seconds:
            return np.concatenate(pieces), " ".join(texts)
    raise ValueError(f"{len(sentences)} sentences make only {total:.0f} s of speech; {seconds:.0f} s were asked for")


def untrained_model(folder: Path, lm_sentences: list[str]) -> Path:
    """A small untrained CTC model with peaky outputs (blank favoured) and a 4-gram LM, saved in `folder`."""
    import torch

    from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC, LogMelWav2Vec2Processor
    from hf_asr.data.vocab import build_tokenizer
    from hf_asr.decoding.lm_building import build_lm, read_unigrams
    from hf_asr.hub import save_model_folder
    from hf_asr.modeling.lm_decoder import LMDecoder

    tokenizer = build_tokenizer(lm_sentences)
    config = LogMelWav2Vec2Config.small(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = LogMelWav2Vec2ForCTC(config).eval()
    with torch.no_grad():  # as in the tests: confident outputs, blank the most frequent, like a trained model's
        model.lm_head.weight.mul_(40.0)
        model.lm_head.bias[tokenizer.pad_token_id] += 3.0
    lm = build_lm(lm_sentences, folder / "lm", order=4, split=None, memory="200M")
    decoder = LMDecoder.from_tokenizer(tokenizer, lm.binary, unigrams=read_unigrams(lm.unigrams), beam_width=32)
    processor = LogMelWav2Vec2Processor(LogMelFeatureExtractor(), tokenizer, decoder=decoder)
    return save_model_folder(model, processor, folder / "model")


def run_config(spec: dict[str, Any]) -> dict[str, Any]:
    """One configuration, in this process: load the pipeline, transcribe the file once, measure."""
    from transformers import pipeline

    from hf_asr.data.audio import read_audio
    from hf_asr.decoding.pipeline import TASK, register_pipeline

    register_pipeline()
    config = CONFIGS[spec["name"]]
    asr = pipeline(TASK, model=spec["model"], use_lm=config.uses_lm)
    if config.uses_lm and asr.type != "ctc_with_lm":
        raise ValueError(f"{spec['model']} has no language_model/ to decode with")
    waveform, rate = read_audio(spec["audio"])
    options: dict[str, Any] = {}
    if config.chunk_length_s is not None:
        options["chunk_length_s"] = config.chunk_length_s
    if config.old_decoding:
        options["decoder_kwargs"] = OLD_DECODING
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # importing transformers runs one
    start = time.perf_counter()
    text = asr({"raw": waveform, "sampling_rate": rate}, **options)["text"]
    seconds = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": round(seconds, 2),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 3),  # kB on Linux
        "workers_peak_rss_gb": round(children / 1e6, 3) if children > children_before else None,  # forked decoders
        "text": text,
    }


def run_in_subprocess(name: str, model: Path, audio: Path) -> dict[str, Any]:
    spec = json.dumps({"name": name, "model": str(model), "audio": str(audio)})
    done = subprocess.run([sys.executable, __file__, "--worker", spec], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| configuration | seconds | × greedy | peak RSS GB (workers) | WER vs old LM | WER vs spoken |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = "" if row["ratio_to_greedy"] is None else f"{row['ratio_to_greedy']:.2f}"
        agreement = "" if row["wer_vs_old_lm"] is None else f"{row['wer_vs_old_lm']:.1%}"
        reference = "" if row["wer_vs_spoken"] is None else f"{row['wer_vs_spoken']:.1%}"
        workers = "" if row["workers_peak_rss_gb"] is None else f" ({row['workers_peak_rss_gb']:.2f})"
        rss = f"{row['peak_rss_gb']:.2f}{workers}"
        lines.append(f"| {row['name']} | {row['seconds']:.1f} | {ratio} | {rss} | {agreement} | {reference} |")
    return "\n".join(lines)


def compare(results: dict[str, dict[str, Any]], spoken: str | None) -> list[dict[str, Any]]:
    """Rows with each configuration's time over its greedy one's, and the WERs of its text."""
    from hf_asr.metrics import error_rates

    def wer(text: str, reference: str | None) -> float | None:
        return None if not reference else error_rates([text], [reference], ["wer"])["wer"]

    rows = []
    for name, result in results.items():
        greedy, old = results.get(CONFIGS[name].greedy or ""), results.get(CONFIGS[name].old_lm or "")
        rows.append(
            {
                "name": name,
                **{k: v for k, v in result.items() if k != "text"},
                "ratio_to_greedy": None if greedy is None else round(result["seconds"] / greedy["seconds"], 2),
                "wer_vs_old_lm": None if old is None else wer(result["text"], old["text"]),
                "wer_vs_spoken": wer(result["text"], spoken),
            }
        )
    return rows


def main() -> None:
    args = parse_args()
    if args.worker:
        print(json.dumps(run_config(json.loads(args.worker))))
        return
    with tempfile.TemporaryDirectory(prefix="bench_long_audio_") as tmp:
        report = bench(args, Path(tmp))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"{report['audio_seconds']} s of {report['audio']}; model: {report['model']}\n")
    print(table(report["rows"]))
    print(f"\nJSON: {args.out}")


def bench(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Make or take the audio and the model (in `work`), run every configuration, compare them."""
    from hf_asr.data.audio import read_audio
    from hf_asr.data.sentences import load_sentences

    corpus = args.corpus or (args.model.parent / "corpus" if args.model else None)
    sentences = load_sentences(seed=0)
    spoken, audio, source = None, args.audio, f"file {args.audio}"
    if audio is None:
        if corpus is not None and corpus.is_dir():
            waveform, spoken = corpus_audio(corpus, args.minutes * 60)
            source = f"test utterances of {corpus}"
        else:
            waveform, spoken = spoken_audio(sentences[:2000], args.minutes * 60)
            source = "fortune sentences spoken by espeak-ng en-us"
        audio = work / "long.wav"
        soundfile.write(audio, waveform, SAMPLING_RATE, subtype="PCM_16")
    model, model_name = args.model, str(args.model)
    if model is None:
        model = untrained_model(work, sentences[2000:])  # no spoken sentence in the LM
        model_name = "untrained LogMelWav2Vec2Config.small() (peaky random outputs) + 4-gram LM: machinery only"
    waveform, rate = read_audio(audio)
    results = {}
    for name in args.configs:
        print(f"{name} ...", file=sys.stderr, flush=True)
        results[name] = run_in_subprocess(name, model, audio)
    return {
        "model": model_name,
        "audio": source,
        "audio_seconds": round(len(waveform) / rate, 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "rows": compare(results, spoken),
        "texts": {name: result["text"] for name, result in results.items()},
    }


if __name__ == "__main__":
    main()
