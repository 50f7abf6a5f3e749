"""Run a Python script in a subprocess where hf_asr cannot be imported, as a Hub user without it would."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

# Put before a script: hf_asr is an editable install of the venv, so an import hook hides it; the script then
# fails at once if `import hf_asr` still works.
HIDE_HF_ASR = textwrap.dedent(
    """
    import sys, importlib.abc

    class HideHfAsr(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "hf_asr" or name.startswith("hf_asr."):
                raise ImportError("hf_asr is hidden in this test")

    sys.meta_path.insert(0, HideHfAsr())
    try:
        import hf_asr  # noqa: F401
        raise SystemExit("hf_asr was importable")
    except ImportError:
        pass
    """
)


def run_without_hf_asr(
    script: str, args: list[str], workdir: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `script` (dedented) with `args` from `workdir`, offline, with its own remote-code module cache and no
    PYTHONPATH (so neither the checkout nor the cwd provides hf_asr); `env` adds or overrides variables."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment.update(HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(workdir / "modules"), **(env or {}))
    return subprocess.run(
        [sys.executable, "-c", HIDE_HF_ASR + textwrap.dedent(script), *args],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
