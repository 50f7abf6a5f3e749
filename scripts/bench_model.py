"""Throughput and peak memory of hf_asr's log-mel wav2vec 2.0 vs transformers' Wav2Vec2, same Transformer size.

Measures, in one run and side by side: a pretraining step (forward + backward + AdamW step), a CTC
fine-tuning step, and inference, in audio-seconds per second, plus peak memory. hf_asr's timings include
its log-mel extraction from the raw waveform (on the same device), since transformers' model takes raw
audio too. Masks and negatives are drawn outside the timed region for both.

    python scripts/bench_model.py                      # CPU: small Transformer, short batch
    python scripts/bench_model.py --device cuda        # GPU: BASE, bf16, 16 × 15 s

Writes JSON (default bench_results/model.json).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import torch
from tqdm import tqdm
from transformers import Wav2Vec2Config, Wav2Vec2ForCTC, Wav2Vec2ForPreTraining
from transformers.models.wav2vec2.modeling_wav2vec2 import _compute_mask_indices, _sample_negative_indices

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC, LogMelWav2Vec2ForPreTraining
from hf_asr.modeling.masking import compute_span_mask, sample_negative_indices

SIZES = {  # Transformer sizes shared by both implementations
    "small": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024),
    "base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
}
VOCAB = 32


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--size", choices=list(SIZES), help="default: base on GPU, small on CPU")
    parser.add_argument("--batch-size", type=int, help="default: 16 on GPU, 4 on CPU")
    parser.add_argument("--seconds", type=float, help="utterance length; default 15 on GPU, 4 on CPU")
    parser.add_argument("--steps", type=int, help="timed steps per measurement; default 10 on GPU, 3 on CPU")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--dtype", choices=["bf16", "fp32"], help="autocast dtype; default bf16 on GPU, fp32 on CPU")
    parser.add_argument("--compile", action="store_true", help="torch.compile hf_asr's model (GPU)")
    parser.add_argument("--only", choices=["hf_asr", "transformers"], help="measure one implementation")
    parser.add_argument("--profile", action="store_true", help="also record the top kernels of each hf_asr phase")
    parser.add_argument("--out", default="bench_results/model.json")
    args = parser.parse_args()
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    gpu = args.device == "cuda"
    args.size = args.size or ("base" if gpu else "small")
    args.batch_size = args.batch_size or (16 if gpu else 4)
    args.seconds = args.seconds or (15.0 if gpu else 4.0)
    args.steps = args.steps or (10 if gpu else 3)
    args.dtype = args.dtype or ("bf16" if gpu else "fp32")
    return args


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def peak_memory_gb(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 1e9
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # process peak RSS (kB -> GB)


def top_kernels(step, args: argparse.Namespace, count: int = 12) -> list[dict]:
    """The `count` operators with the most device (or CPU) self time over two runs of `step`."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if args.device == "cuda" else [])
    with profile(activities=activities) as profiler:
        for _ in range(2):
            step()
        synchronize(args.device)
    key = "self_device_time_total" if args.device == "cuda" else "self_cpu_time_total"
    events = sorted(profiler.key_averages(), key=lambda e: getattr(e, key), reverse=True)[:count]
    return [{"name": e.key[:80], "ms_per_step": getattr(e, key) / 2e3, "calls": e.count // 2} for e in events]


def timed(label: str, step, args: argparse.Namespace) -> dict:
    """Run `step` warmup + steps times; audio-seconds per second over the timed steps."""
    if args.device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    for _ in range(args.warmup):
        step()
    synchronize(args.device)
    start = time.perf_counter()
    for _ in tqdm(range(args.steps), desc=label, leave=False):
        step()
    synchronize(args.device)
    elapsed = time.perf_counter() - start
    audio_seconds = args.batch_size * args.seconds * args.steps
    result = {
        "audio_seconds_per_second": audio_seconds / elapsed,
        "seconds_per_step": elapsed / args.steps,
        "peak_memory_gb": peak_memory_gb(args.device),
    }
    if args.profile and label.startswith("hf_asr"):
        result["top_kernels"] = top_kernels(step, args)
    return result


def autocast(args: argparse.Namespace):
    return torch.autocast(args.device, dtype=torch.bfloat16, enabled=args.dtype == "bf16")


def training_step(model: torch.nn.Module, compute_loss, args: argparse.Namespace):
    """A closure running one forward (autocast) + backward + AdamW step of `compute_loss()`."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=args.device == "cuda")

    def step():
        with autocast(args):
            loss = compute_loss()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def bench_hf_asr(args: argparse.Namespace, waves: torch.Tensor) -> dict:
    size = SIZES[args.size]
    extractor = LogMelFeatureExtractor()
    config = LogMelWav2Vec2Config(**size, vocab_size=VOCAB, num_conv_pos_embedding_groups=16)

    def features():
        return extractor(list(waves), sampling_rate=16000, return_tensors="pt")

    def frames(model):
        mel = features()
        return mel, model.encoder_lengths(mel["attention_mask"].sum(-1).cpu())

    results = {}
    model = LogMelWav2Vec2ForPreTraining(config).to(args.device)
    mel, frame_lengths = frames(model)
    mask = compute_span_mask(frame_lengths, int(frame_lengths.max()), config.mask_time_prob, config.mask_time_length, 2)
    negatives = sample_negative_indices(mask, frame_lengths, config.num_negatives).to(args.device)
    mask = mask.to(args.device)
    forward = torch.compile(model) if args.compile else model
    pretrain_step = training_step(
        model,
        lambda: forward(features()["input_features"], mask_time_indices=mask, sampled_negative_indices=negatives).loss,
        args,
    )
    results["pretraining_step"] = timed("hf_asr pretrain", pretrain_step, args)
    del model, forward, pretrain_step

    model = LogMelWav2Vec2ForCTC(config).to(args.device)
    forward = torch.compile(model) if args.compile else model
    labels = torch.randint(3, VOCAB, (args.batch_size, int(args.seconds * 12)), device=args.device)
    ctc_step = training_step(model, lambda: forward(features()["input_features"], labels=labels).loss, args)
    results["ctc_step"] = timed("hf_asr ctc", ctc_step, args)
    model.eval()

    def inference():
        with torch.inference_mode(), autocast(args):
            forward(features()["input_features"]).logits.argmax(-1)

    results["inference"] = timed("hf_asr inference", inference, args)
    results["parameters"] = sum(p.numel() for p in model.parameters())
    return results


def bench_transformers(args: argparse.Namespace, waves: torch.Tensor) -> dict:
    size = SIZES[args.size]
    config = Wav2Vec2Config(**size, vocab_size=VOCAB, attn_implementation="sdpa", mask_time_prob=0.65)
    results = {}
    model = Wav2Vec2ForPreTraining(config).to(args.device)
    num_frames = int(model._get_feat_extract_output_lengths(waves.shape[1]))
    mask = _compute_mask_indices((args.batch_size, num_frames), config.mask_time_prob, config.mask_time_length, None, 2)
    negatives = _sample_negative_indices((args.batch_size, num_frames), config.num_negatives, mask)
    mask = torch.from_numpy(mask).to(args.device)
    negatives = torch.from_numpy(negatives).to(args.device)
    pretrain_step = training_step(
        model, lambda: model(waves, mask_time_indices=mask, sampled_negative_indices=negatives).loss, args
    )
    results["pretraining_step"] = timed("transformers pretrain", pretrain_step, args)
    del model, pretrain_step

    model = Wav2Vec2ForCTC(config).to(args.device)
    labels = torch.randint(3, VOCAB, (args.batch_size, int(args.seconds * 12)), device=args.device)
    ctc_step = training_step(model, lambda: model(waves, labels=labels).loss, args)
    results["ctc_step"] = timed("transformers ctc", ctc_step, args)
    model.eval()

    def inference():
        with torch.inference_mode(), autocast(args):
            model(waves).logits.argmax(-1)

    results["inference"] = timed("transformers inference", inference, args)
    results["parameters"] = sum(p.numel() for p in model.parameters())
    return results


def main() -> None:
    args = parse_args()
    torch.manual_seed(0)
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest conv algorithms (both models)
    num_samples = int(args.seconds * 16000)
    waves = (0.1 * torch.randn(args.batch_size, num_samples)).to(args.device)
    report = {
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "machine": {
            "device": torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or "cpu",
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        },
    }
    if args.only != "transformers":
        report["hf_asr"] = bench_hf_asr(args, waves)
    if args.only != "hf_asr":
        report["transformers"] = bench_transformers(args, waves)
    if "hf_asr" in report and "transformers" in report:
        report["speedup"] = {
            phase: report["hf_asr"][phase]["audio_seconds_per_second"]
            / report["transformers"][phase]["audio_seconds_per_second"]
            for phase in ("pretraining_step", "ctc_step", "inference")
        }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
