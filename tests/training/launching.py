"""`accelerate launch` of two real CPU processes (gloo) from a test, for the multi-process tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def accelerate_launch(launch_options: list[str], module: str, *module_args: str, timeout: int = 400):
    """`accelerate launch LAUNCH_OPTIONS --main_process_port FREE -m MODULE MODULE_ARGS` from the repository root,
    on the CPU (ACCELERATE_USE_CPU=1), one thread per process, offline; returns the CompletedProcess (text)."""
    accelerate = shutil.which("accelerate", path=os.path.dirname(sys.executable)) or shutil.which("accelerate")
    assert accelerate, "accelerate's launcher is not installed"
    env = {
        **os.environ,
        "ACCELERATE_USE_CPU": "1",
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    command = [accelerate, "launch", *launch_options, "--main_process_port", str(free_port()), "-m", module]
    return subprocess.run([*command, *module_args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
