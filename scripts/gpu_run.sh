#!/usr/bin/env bash
# The device check, as one script: CUDA/bf16 checks, then the model benchmark (eager, then torch.compile).
# Runs on a GPU machine whose own python3 holds torch/transformers/torchaudio: hf_asr runs from the checkout.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-bench_results}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TQDM_DISABLE=1
python3 -c "import torch, transformers, torchaudio; print('torch', torch.__version__, 'transformers', transformers.__version__, 'torchaudio', torchaudio.__version__, torch.cuda.get_device_name())"
python3 scripts/gpu_checks.py --out "$OUT/gpu_checks.json"
python3 scripts/bench_model.py --device cuda --out "$OUT/model_gpu.json" | tail -30
python3 scripts/bench_model.py --device cuda --only hf_asr --compile --out "$OUT/model_gpu_compiled.json" | tail -25
