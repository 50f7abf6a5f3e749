import pytest

from hf_asr.modeling import atomic_write
from hf_asr.modeling.atomic_write import atomic_write_text, exchange_paths, replace_folder, staged_folder


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
