import os

import pytest

from hf_asr.modeling import atomic_write
from hf_asr.modeling.atomic_write import (
    atomic_write_text,
    exchange_paths,
    recover_folder,
    recover_folders_in,
    replace_folder,
    staged_folder,
)


@pytest.fixture(params=["exchange", "two renames"])
def swap(request, monkeypatch):
    """Run each test with the renameat2 exchange and with the fallback of two renames."""
    if request.param == "exchange":
        if atomic_write._renameat2() is None:
            pytest.skip("renameat2 is not available here")
    else:
        monkeypatch.setattr(atomic_write, "_renameat2", lambda: None)
    return request.param


def make_folder(path, files):
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def contents(path):
    return {p.name: p.read_text() for p in path.iterdir()}


def test_staged_folder_creates_a_fresh_target(tmp_path, swap):
    target = tmp_path / "new" / "model"
    with staged_folder(target) as staging:
        assert staging.parent == target.parent and staging.name.startswith(".model.tmp")
        assert not target.exists()  # nothing appears before the block succeeds
        (staging / "weights.bin").write_text("new")
    assert contents(target) == {"weights.bin": "new"}
    assert [p.name for p in target.parent.iterdir()] == ["model"]


def test_staged_folder_replaces_an_existing_folder(tmp_path, swap):
    target = make_folder(tmp_path / "model", {"old.txt": "old", "shared.txt": "old"})
    with staged_folder(target) as staging:
        (staging / "shared.txt").write_text("new")
    assert contents(target) == {"shared.txt": "new"}  # old-only files do not survive
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # neither staging nor the old folder is left


def test_failure_inside_the_block_leaves_the_old_folder(tmp_path, swap):
    target = make_folder(tmp_path / "model", {"a.txt": "old"})
    with pytest.raises(RuntimeError, match="disk full"):
        with staged_folder(target) as staging:
            (staging / "a.txt").write_text("half written")
            raise RuntimeError("disk full")
    assert contents(target) == {"a.txt": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_replace_folder_moves_the_new_content_into_place(tmp_path, swap):
    source = make_folder(tmp_path / "source", {"x": "new"})
    target = make_folder(tmp_path / "target", {"x": "old", "y": "old"})
    replace_folder(source, target)
    assert contents(target) == {"x": "new"} and not source.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["target"]


def test_failed_move_puts_the_old_folder_back(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic_write, "_renameat2", lambda: None)
    target = make_folder(tmp_path / "target", {"x": "old"})
    with pytest.raises(FileNotFoundError):
        replace_folder(tmp_path / "missing", target)
    assert contents(target) == {"x": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["target"]


def test_exchange_swaps_two_folders(tmp_path):
    first = make_folder(tmp_path / "first", {"f": "1"})
    second = make_folder(tmp_path / "second", {"s": "2"})
    if not exchange_paths(first, second):
        pytest.skip("this system or filesystem cannot exchange paths atomically")
    assert contents(first) == {"s": "2"} and contents(second) == {"f": "1"}
    with pytest.raises(FileNotFoundError):
        exchange_paths(first, tmp_path / "missing")


def test_atomic_write_text_replaces_a_file(tmp_path):
    path = tmp_path / "attrs.json"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new ⁇")
    assert path.read_text(encoding="utf-8") == "new ⁇"
    assert [p.name for p in tmp_path.iterdir()] == ["attrs.json"]


# ---- a process killed at every point of a save --------------------------------------------------------------------
# The child loads atomic_write.py on its own (standard library only, no hf_asr import: fast) and dies with os._exit,
# as under SIGKILL (no exception handler or `finally` runs), just before its k-th filesystem change.
KILLED = 137
CHILD = r"""
import importlib.util, os, sys
from pathlib import Path

spec = importlib.util.spec_from_file_location("atomic_write", sys.argv[1])
atomic_write = importlib.util.module_from_spec(spec)
spec.loader.exec_module(atomic_write)
kill_at, target, mode = int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
if mode == "two renames":
    atomic_write._renameat2 = lambda: None
calls = 0

def dying_before(function):
    def wrapper(*args, **kwargs):
        global calls
        calls += 1
        if calls == kill_at:
            os._exit(137)
        return function(*args, **kwargs)
    return wrapper

for name in ("rename", "replace", "mkdir", "rmdir", "unlink"):
    setattr(os, name, dying_before(getattr(os, name)))
atomic_write.exchange_paths = dying_before(atomic_write.exchange_paths)
with atomic_write.staged_folder(target) as staging:
    (staging / "weights.bin").write_text("new")
    (staging / "config.json").write_text("new")
"""
OLD = {"weights.bin": "old", "config.json": "old", "old_only.txt": "old"}
NEW = {"weights.bin": "new", "config.json": "new"}


def save_in_a_child_killed_at(kill_at, target, mode):
    import subprocess
    import sys

    args = [sys.executable, "-c", CHILD, atomic_write.__file__, str(kill_at), str(target), mode]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_a_save_killed_at_any_point_leaves_the_old_or_the_new_folder(tmp_path, swap):
    gaps = 0  # kills that left no folder at the path (two renames only): the next save or load recovers them
    for kill_at in range(1, 50):
        root = tmp_path / str(kill_at)
        root.mkdir()
        target = make_folder(root / "model", OLD)
        child = save_in_a_child_killed_at(kill_at, target, swap)
        if child.returncode == 0:
            break
        assert child.returncode == KILLED, child.stderr
        if swap == "exchange":
            assert contents(target) in (OLD, NEW), kill_at  # a folder stands at the path at every moment
        elif not target.exists():
            gaps += 1
        # What the next load does (recover_folder), then the next save: old or new, then new and nothing left over.
        recover_folder(target)
        assert contents(target) in (OLD, NEW), kill_at
        with staged_folder(target) as staging:
            (staging / "weights.bin").write_text("newer")
        assert contents(target) == {"weights.bin": "newer"}
        assert [p.name for p in root.iterdir()] == ["model"], kill_at
    else:
        pytest.fail("the save never completed")
    assert kill_at > 4  # mkdir, the swap and the clean-up were each interrupted
    assert contents(target) == NEW and [p.name for p in target.parent.iterdir()] == ["model"]
    assert (gaps > 0) == (swap == "two renames")


def test_leftovers_of_dead_processes_are_cleaned_and_those_of_live_ones_kept(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid, live_pid = int(dead.stdout), os.getpid()
    target = make_folder(tmp_path / "model", {"x": "current"})
    for kind in ("tmp", "old", "trash"):
        make_folder(tmp_path / f".model.{kind}-{dead_pid}-00ff", {"x": kind})
    make_folder(tmp_path / f".model.tmp-{live_pid}-00ff", {"x": "in progress"})
    (tmp_path / ".other.tmp-1-00ff").mkdir()  # another name's leftover: not this target's business
    assert recover_folder(target) is None  # the target is there: nothing is put back, dead leftovers go
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".model.tmp-{live_pid}-00ff", ".other.tmp-1-00ff", "model"]
    assert contents(target) == {"x": "current"}


def test_recover_folder_puts_back_the_old_folder_of_a_killed_swap(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    make_folder(tmp_path / f".model.old-{int(dead.stdout)}-00ff", {"x": "old"})
    make_folder(tmp_path / f".model.tmp-{int(dead.stdout)}-00ff", {"x": "new"})
    assert recover_folders_in(tmp_path) == [tmp_path / "model"]
    assert contents(tmp_path / "model") == {"x": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_file_at_the_target_is_refused_and_left_alone(tmp_path, swap):
    user_file = tmp_path / "model"
    user_file.write_text("my notes")
    with pytest.raises(FileExistsError, match=r"model exists and is not a folder"):
        with staged_folder(user_file) as staging:
            (staging / "weights.bin").write_text("new")
    source = make_folder(tmp_path / "source", {"x": "new"})
    with pytest.raises(FileExistsError, match=r"model exists and is not a folder"):
        replace_folder(source, user_file)
    assert user_file.read_text() == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "source"]


def test_save_model_folder_refuses_a_file_before_saving_anything(tmp_path):
    from hf_asr.hub import save_model_folder

    user_file = tmp_path / "model.bin"
    user_file.write_bytes(b"weights of my own")

    class Unsaved:
        def save_pretrained(self, *args, **kwargs):
            raise AssertionError("nothing may be written")

    with pytest.raises(FileExistsError, match="model.bin"):
        save_model_folder(Unsaved(), None, user_file)
    assert user_file.read_bytes() == b"weights of my own"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


@pytest.mark.parametrize("name", ["../README.md", "sub/README.md", "", ".."])
def test_save_model_folder_refuses_extra_files_outside_the_folder(tmp_path, name):
    from hf_asr.hub import save_model_folder

    with pytest.raises(ValueError, match="plain file names inside the folder"):
        save_model_folder(object(), None, tmp_path / "model", extra_files={name: "text"})
    assert not any(tmp_path.iterdir())
