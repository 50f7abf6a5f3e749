"""Atomic replacement of folders and files: write everything beside the target, then swap it into place.

A reader (or a process killed mid-save) sees either the old content or the new one, never a half-written mix.
On Linux the folder swap is one `renameat2(RENAME_EXCHANGE)` call, so a folder stands at the target at every
moment; elsewhere (or on filesystems without it) the old folder is renamed aside first, leaving a short gap.
Source and target must be on the same filesystem: every path used here is a sibling of the target.

Standard library only: this file ships to the Hub with the model code.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

AT_FDCWD = -100  # <fcntl.h>: paths relative to the working directory
RENAME_EXCHANGE = 2  # <linux/fs.h>
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
    """Move folder `source` to `target`, replacing whatever is there; the old content is deleted afterwards.

    If the move fails, an existing `target` is left (or put back) in place and `source` is left where it was.
    """
    source, target = Path(source), Path(target)
    if not (target.exists() or target.is_symlink()):
        source.rename(target)
        return
    if exchange_paths(source, target):
        _remove(source)  # now holds the old content
        return
    old = _sibling(target, "old")
    target.rename(old)
    try:
        source.rename(target)
    except BaseException:
        old.rename(target)
        raise
    _remove(old)


@contextmanager
def staged_folder(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a new empty hidden folder beside `target`; when the block ends without error, it replaces `target`.

    On an exception the staging folder is deleted and `target` is left untouched. The parent of `target` is
    created if needed.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = _sibling(target, "tmp")
    staging.mkdir()  # with the umask, like any new folder (tempfile.mkdtemp would make it 0o700)
    try:
        yield staging
        replace_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already after a successful swap


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write `text` to `path` through a hidden sibling file renamed over it (flushed to disk first)."""
    path = Path(path)
    tmp = _sibling(path, "tmp")
    # Created like open(path, "w") would (mode 0o666 less the umask), unlike tempfile's private 0o600.
    handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "w", encoding=encoding) as file:
            file.write(text)
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


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
