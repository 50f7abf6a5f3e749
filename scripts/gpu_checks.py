"""CUDA and bf16 checks of hf_asr's model, for a machine with a GPU (CI has none; run by hand).

Exits non-zero on the first failed check and prints one line per check. Writes JSON if --out is given.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch

from hf_asr import LogMelFeatureExtractor, LogMelWav2Vec2Config, LogMelWav2Vec2ForCTC, LogMelWav2Vec2ForPreTraining


def check(name: str, ok: bool, detail: str, results: dict) -> None:
    results[name] = {"ok": bool(ok), "detail": detail}
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 0
    results: dict = {"device": torch.cuda.get_device_name(), "torch": torch.__version__}
    torch.manual_seed(0)
    extractor = LogMelFeatureExtractor()
    rng = np.random.default_rng(0)
    waves = [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in (48000, 30000, 16000)]

    cpu = extractor(waves, sampling_rate=16000, return_tensors="pt")
    gpu = extractor([torch.from_numpy(w).cuda() for w in waves], sampling_rate=16000, return_tensors="pt")
    diff = (gpu["input_features"].cpu() - cpu["input_features"]).abs().max().item()
    check("extractor_gpu_matches_cpu", gpu["input_features"].is_cuda and diff < 1e-3, f"max diff {diff:.2e}", results)

    config = LogMelWav2Vec2Config.base(vocab_size=32, hidden_dropout=0.0, attention_dropout=0.0, final_dropout=0.0)
    model = LogMelWav2Vec2ForCTC(config).cuda().eval()
    inputs = {k: v.cuda() for k, v in cpu.items()}
    with torch.no_grad():
        fp32 = model(**inputs)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            bf16 = model(**inputs)
        per_utterance = []
        for i, wave in enumerate(waves):
            single = extractor(torch.from_numpy(wave).cuda(), sampling_rate=16000, return_tensors="pt")
            logits = model(**single).logits[0]
            per_utterance.append((fp32.logits[i, : logits.shape[0]] - logits).abs().max().item())
    agree = (fp32.logits.argmax(-1) == bf16.logits.float().argmax(-1)).float().mean().item()
    check("bf16_logits_agree_with_fp32", agree > 0.95, f"argmax agreement {agree:.3f}", results)
    check("padded_equals_single_on_gpu", max(per_utterance) < 1e-3, f"max diff {max(per_utterance):.2e}", results)

    model.config._attn_implementation = "eager"
    with torch.no_grad():
        eager = model(**inputs).logits
    model.config._attn_implementation = "sdpa"
    diff = (eager - fp32.logits).abs().max().item()
    check("eager_equals_sdpa_on_gpu", diff < 1e-3, f"max diff {diff:.2e}", results)

    labels = torch.randint(3, 32, (3, 20), device="cuda")
    model.train()
    for dtype in (torch.bfloat16, torch.float16):
        with torch.autocast("cuda", dtype=dtype):
            loss = model(**inputs, labels=labels).loss
        loss.backward()
        grads_finite = all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
        model.zero_grad()
        check(
            f"ctc_loss_finite_{dtype}", torch.isfinite(loss).item() and grads_finite, f"loss {loss.item():.3f}", results
        )

    pretrain = LogMelWav2Vec2ForPreTraining(config).cuda().train()
    for dtype in (torch.bfloat16, torch.float16):
        with torch.autocast("cuda", dtype=dtype):
            out = pretrain(**inputs)
        out.loss.backward()
        grads_finite = all(torch.isfinite(p.grad).all() for p in pretrain.parameters() if p.grad is not None)
        pretrain.zero_grad()
        check(
            f"pretraining_loss_finite_{dtype}",
            torch.isfinite(out.loss).item() and grads_finite,
            f"loss {out.loss.item():.3f}, perplexity {out.codevector_perplexity.item():.1f}",
            results,
        )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
    return 0 if all(r["ok"] for r in results.values() if isinstance(r, dict)) else 1


if __name__ == "__main__":
    sys.exit(main())
