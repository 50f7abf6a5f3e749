#!/usr/bin/env bash
# The device check, as one script: CUDA/bf16 checks, then the model benchmark (eager, then torch.compile).
# Runs on a GPU machine whose own python3 holds torch/transformers/torchaudio: hf_asr runs from the checkout.
# With .whl/ and bench_data/decode/ carried (made by scripts/gpu_prepare.sh), LM decoding of real posteriors is
# benchmarked too: pyctcdecode and hf_asr on the CPU, the batched tensor-LM search on the GPU, in one run.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-bench_results}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TQDM_DISABLE=1
DECODE=""
if [ -d .whl ] && [ -d bench_data/decode ]; then
  DECODE=1
  # KenLM has no wheel: it is built from its source package while the model benchmarks run.
  ( python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-cache-dir --target /tmp/site .whl/kenlm-*.tar.gz \
  ) > "$OUT/decode_install.log" 2>&1 &
  INSTALL=$!
fi
python3 -c "import torch, transformers, torchaudio; print('torch', torch.__version__, 'transformers', transformers.__version__, 'torchaudio', torchaudio.__version__, torch.cuda.get_device_name())"
python3 scripts/gpu_checks.py --out "$OUT/gpu_checks.json"
python3 scripts/bench_model.py --device cuda --out "$OUT/model_gpu.json" | tail -30
python3 scripts/bench_model.py --device cuda --only hf_asr --compile --out "$OUT/model_gpu_compiled.json" | tail -25
if [ -n "$DECODE" ]; then
  if wait "$INSTALL"; then
    PYTHONPATH="/tmp/site:$PYTHONPATH" python3 scripts/bench_decode.py --data bench_data/decode --beams 32 100 \
      --num-processes 2 --out "$OUT/decode_gpu.json" | tail -20
  else
    echo "decoding rows skipped: installing the carried wheels failed"; tail -20 "$OUT/decode_install.log"
  fi
fi
