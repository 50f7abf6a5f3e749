"""Atomic replacement of folders and files: write everything beside the target, then swap it into place.

A reader (or a process killed mid-save) sees either the old content or the new one, never a half-written mix.
On Linux the folder swap is one `renameat2(RENAME_EXCHANGE)` call, so a folder stands at the target at every
moment; elsewhere (or on filesystems without it) the old folder is renamed aside first (`.<name>.old-*`), leaving
a short gap. A process killed in that gap leaves no folder at the target: the next save (or `recover_folder`,
which loaders may call) puts the old folder back. Leftovers of killed processes (`.<name>.tmp-*`, `.<name>.old-*`,
`.<name>.trash-*`) are deleted at the next save; those of live processes are left alone. A target that exists
but is not a folder (a user's file) is never moved aside: saving there raises FileExistsError.
Source and target must be on the same filesystem: every path used here is a sibling of the target.

Standard library only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

AT_FDCWD = -100  # <fcntl.h>: paths relative to the working directory
RENAME_EXCHANGE = 2  # <linux/fs.h>
# `_sibling` names: staging (tmp), the old folder renamed aside (old), replaced content being deleted (trash).
_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?P<kind>tmp|old|trash)-(?P<pid>\d+)-[0-9a-f]+")
# renameat2 failures that mean "not supported here" (old kernel or libc, or the filesystem refuses the flag).
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """libc's renameat2, or None where there is none (not Linux, glibc < 2.28, musl without it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def exchange_paths(first: str | os.PathLike, second: str | os.PathLike) -> bool:
    """Swap two existing paths in one atomic step; False (nothing changed) where the system cannot.

    Raises OSError for real failures (a path missing, no permission, different filesystems).
    """
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), os.fspath(first), None, os.fspath(second))


def replace_folder(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Move folder `source` to `target`, replacing the folder there; the old content is deleted afterwards.

    If the move fails, an existing `target` is left (or put back) in place and `source` is left where it was.
    Raises FileExistsError naming `target` when it exists but is not a folder (it is left untouched).
    """
    source, target = Path(source), Path(target)
    recover_folder(target)
    refuse_non_folder(target)
    if not _occupied(target):
        source.rename(target)
        return
    if exchange_paths(source, target):
        _discard(source, target)  # now holds the old content
        return
    old = _sibling(target, "old")
    target.rename(old)  # a kill from here until the next rename leaves `old` for recover_folder to put back
    try:
        source.rename(target)
    except BaseException:
        old.rename(target)
        raise
    _discard(old, target)


def refuse_non_folder(target: str | os.PathLike) -> None:
    """FileExistsError naming `target` when something other than a folder (or a link to one) is there."""
    target = Path(target)
    if _occupied(target) and not target.is_dir():
        raise FileExistsError(
            f"{target} exists and is not a folder: refusing to replace it with a folder; move it away or choose "
            "another path"
        )


def recover_folder(target: str | os.PathLike) -> Path | None:
    """Repair what killed saves left beside `target`; return the folder put back at `target`, if any.

    When `target` is missing and a killed process had renamed the old folder aside (`.<name>.old-*`), that folder
    is renamed back (the newest, if several). Every other leftover of a process that is no longer running is
    deleted. Leftovers of running processes (saves in progress) are not touched.
    """
    target = Path(target)
    leftovers = [(path, kind) for path, kind, pid in _leftovers(target) if not _process_alive(pid)]
    restored = None
    olds = [path for path, kind in leftovers if kind == "old"]
    if olds and not _occupied(target):
        restored = max(olds, key=lambda path: path.lstat().st_ctime)
        restored.rename(target)
    for path, _ in leftovers:
        if path != restored:
            _remove(path)
    return target if restored is not None else None


def recover_folders_in(directory: str | os.PathLike) -> list[Path]:
    """`recover_folder` for every name in `directory` that has leftovers; returns the folders put back."""
    try:
        names = os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return []
    targets = sorted({match["name"] for match in map(_LEFTOVER.fullmatch, names) if match})
    return [path for name in targets if (path := recover_folder(Path(directory) / name)) is not None]


@contextmanager
def staged_folder(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a new empty hidden folder beside `target`; when the block ends without error, it replaces `target`.

    On an exception the staging folder is deleted and `target` is left untouched. The parent of `target` is
    created if needed. Raises FileExistsError naming `target` when it exists and is not a folder.
    """
    target = Path(target)
    refuse_non_folder(target)  # before the block runs: it may take hours
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(target)
    staging = _sibling(target, "tmp")
    staging.mkdir()  # with the umask, like any new folder (tempfile.mkdtemp would make it 0o700)
    try:
        yield staging
        replace_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already after a successful swap


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write `text` to `path` through a hidden sibling file renamed over it (flushed to disk first)."""
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` through a hidden sibling file renamed over it (flushed to disk first)."""
    path = Path(path)
    recover_folder(path)  # a file has no .old-* leftovers: this deletes the .tmp-* files of killed writers
    tmp = _sibling(path, "tmp")
    # Created like open(path, "wb") would (mode 0o666 less the umask), unlike tempfile's private 0o600.
    handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sibling(target: Path, kind: str) -> Path:
    """A new hidden name beside `target`, `.<name>.<kind>-<pid>-<random>` (created with O_EXCL/mkdir, so a
    collision fails instead of overwriting)."""
    return target.with_name(f".{target.name}.{kind}-{os.getpid()}-{secrets.token_hex(8)}")


def _leftovers(target: Path) -> list[tuple[Path, str, int]]:
    """(path, kind, pid) of every `_sibling` of `target`."""
    try:
        names = os.listdir(target.parent)
    except (FileNotFoundError, NotADirectoryError):
        return []
    matches = [(name, _LEFTOVER.fullmatch(name)) for name in names]
    return [
        (target.parent / name, match["kind"], int(match["pid"]))
        for name, match in matches
        if match and match["name"] == target.name
    ]


def _process_alive(pid: int) -> bool:
    """Whether process `pid` runs on this machine (this process counts as alive: it may be saving elsewhere)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists (another user's) or cannot tell: leave its files alone
    return True


def _occupied(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _discard(old: Path, target: Path) -> None:
    """Delete the replaced content; renamed to `.trash-*` first, so that a kill mid-deletion leaves nothing that
    `recover_folder` would mistake for a whole old folder."""
    trash = _sibling(target, "trash")
    old.rename(trash)
    _remove(trash)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
