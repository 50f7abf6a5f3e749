#!/usr/bin/env bash
# Prepares, on this (CPU) machine, what scripts/gpu_run.sh's decoding rows need on a GPU machine that has torch but
# neither the decoders nor the corpus:
#   .whl/         wheels of pyctcdecode, jiwer, evaluate, datasets and their missing needs for the device's Python
#                 (3.12, manylinux), and KenLM's source package (no wheel exists: gpu_run.sh builds it there)
#   bench_data/decode/  a trained model's real posteriors on its corpus' test split, references, LM, labels,
#                 tuned alpha/beta (scripts/bench_decode.py --save-data); the CPU figures of the same run go to
#                 bench_results/decode_cpu.json
# Usage: scripts/gpu_prepare.sh [MODEL_FOLDER (default runs/demo/model)]; then run gpu_run.sh there with
# carry [".whl", "bench_data"].
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-runs/demo/model}"
[ -d "$MODEL" ] || { echo "no model folder $MODEL: run \`make demo\` first or name one"; exit 1; }
PYTHON=.venv/bin/python
# A pip config may name local wheel folders that do not exist; pip warns about each, harmlessly: drop those lines.
quiet_pip() { "$@" 2> >(grep -v "is neither a file nor a directory" >&2); }

# The versions this checkout was tested with; the device has numpy, torch, pyarrow, pandas, click, hypothesis...
WHEELS=(pyctcdecode pygtrie jiwer rapidfuzz evaluate datasets dill multiprocess)
pins=()
for name in "${WHEELS[@]}"; do
  pins+=("$("$PYTHON" -m pip show "$name" 2>/dev/null | awk -v n="$name" '/^Version:/ {print n "==" $2}')")
done
rm -rf .whl && mkdir -p .whl
quiet_pip "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .whl "${pins[@]}"
quiet_pip "$PYTHON" -m pip download -q --no-deps --no-binary kenlm -d .whl \
  "kenlm==$("$PYTHON" -m pip show kenlm | awk '/^Version:/ {print $2}')"

rm -rf bench_data/decode
HF_HUB_OFFLINE=1 "$PYTHON" scripts/bench_decode.py --model "$MODEL" --num-utterances 160 --beams 32 100 \
  --num-processes 2 --save-data bench_data/decode --out bench_results/decode_cpu.json
du -sh .whl bench_data
