"""A stand-in for the Hub client the Trainer uploads through (transformers' shared `HfApi`): no network; it records
which files each upload would send, filtered by its patterns as huggingface_hub filters them."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from types import SimpleNamespace

import transformers.utils.hub
from huggingface_hub.utils import filter_repo_objects


class FakeHub:
    def __init__(self) -> None:
        self.repos: list[str] = []
        self.uploads: list[dict] = []  # {"folder", "path_in_repo", "files"} per upload_folder call

    def create_repo(self, repo_id: str, **kwargs) -> SimpleNamespace:
        self.repos.append(repo_id)
        return SimpleNamespace(repo_id=repo_id)

    def upload_folder(
        self, *, folder_path, path_in_repo=None, allow_patterns=None, ignore_patterns=None, run_as_future=False, **kw
    ):
        root = Path(folder_path)
        names = [path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()]
        files = sorted(filter_repo_objects(names, allow_patterns=allow_patterns, ignore_patterns=ignore_patterns))
        self.uploads.append({"folder": str(folder_path), "path_in_repo": path_in_repo, "files": files})
        if not run_as_future:
            return SimpleNamespace(commit_url="fake")
        done: Future = Future()
        done.set_result(None)
        return done


def install_fake_hub(monkeypatch) -> FakeHub:
    """Make every Hub call of the Trainer (and of hf_asr's uploads) go to a new FakeHub."""
    hub = FakeHub()
    monkeypatch.setattr(transformers.utils.hub, "_hf_api", hub)
    return hub
