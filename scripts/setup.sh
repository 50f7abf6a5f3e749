#!/usr/bin/env bash
# Idempotent set-up: Debian packages, KenLM's lmplz/build_binary, and the .venv with hf_asr installed.
# A second run only checks what is there and takes seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
TOOLS="$ROOT/tools"

DEBIAN_PACKAGES=(
  libavcodec59 libavformat59 libavutil57 libswresample4 libswscale6 libavdevice59 libavfilter8
  espeak-ng flite festival festvox-kdlpc16k sox fortunes-min fortunes
  cmake libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev
  zlib1g-dev libbz2-dev liblzma-dev
)

missing_debian_packages() {
  local pkg
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

step() { echo "[setup] $*"; }
# A pip config may name local wheel folders that do not exist; pip warns about each, harmlessly: drop those lines.
quiet_pip() { "$@" 2> >(grep -v "is neither a file nor a directory" >&2); }

MISSING="$(missing_debian_packages)"
if [ -n "$MISSING" ]; then
  step "installing Debian packages: $(echo $MISSING | tr '\n' ' ')"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING >/dev/null
fi

if [ ! -x "$TOOLS/bin/lmplz" ] || [ ! -x "$TOOLS/bin/build_binary" ]; then
  step "building KenLM's lmplz and build_binary from the kenlm 0.3.0 source package (~60 s)"
  BUILD="$(mktemp -d)"
  quiet_pip "$PYTHON" -m pip download -q --no-deps --no-binary kenlm kenlm==0.3.0 -d "$BUILD"
  tar -xzf "$BUILD"/kenlm-*.tar.gz -C "$BUILD"
  SRC="$(find "$BUILD" -maxdepth 1 -type d -name 'kenlm-*' | head -1)"
  if ! { cmake -S "$SRC" -B "$BUILD/build" -DCMAKE_BUILD_TYPE=Release \
         && make -C "$BUILD/build" -j"$(nproc)" lmplz build_binary; } >"$BUILD/build.log" 2>&1; then
    tail -40 "$BUILD/build.log"; echo "[setup] building KenLM failed (log above)"; exit 1
  fi
  mkdir -p "$TOOLS/bin"
  cp "$BUILD/build/bin/lmplz" "$BUILD/build/bin/build_binary" "$TOOLS/bin/"
  rm -rf "$BUILD"
fi

if [ ! -x .venv/bin/python ]; then
  step "creating .venv"
  "$PYTHON" -m venv .venv
fi
# Reinstall only when setup.py changed since the last install.
STAMP=.venv/.hf_asr-installed
if [ ! -f "$STAMP" ] || [ setup.py -nt "$STAMP" ]; then
  step "installing hf_asr and its dependencies into .venv (first time: several minutes)"
  quiet_pip .venv/bin/python -m pip install -q -e ".[dev,flashlight]"
  touch "$STAMP"
fi
step "ready"
