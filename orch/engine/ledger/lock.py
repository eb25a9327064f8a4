"""The apply lock: one ``orch apply`` at a time per state database — per file, not per name.

The lock is a POSIX record lock (``lockf``) on one byte of the database file itself, far past the
bytes SQLite locks (1 GiB + 0..511): every name of the file — a symlink, a hard link in another
folder, ``a/../a/state.db`` — reaches the same inode, so the same lock; the kernel (or the NFS lock
manager) drops it when the holder dies, so a crash never leaves a stale lock.

POSIX locks belong to a process, and closing *any* descriptor of a file drops *all* of the
process's locks on it — SQLite's own included. So the descriptor stays open while any Ledger of
this process has the file open (reference-counted here), and Ledgers of one process exclude each
other through an in-process flag.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from orch.errors import ConfigError, OrchError

if TYPE_CHECKING:
    from orch.engine.ledger.core import Ledger

#: the byte locked: beyond SQLite's lock bytes and beyond any real ledger's size (locks past EOF are fine)
LOCK_BYTE = 1 << 40


@dataclass
class _File:
    users: int = 0  # open Ledgers of this process on the file
    fd: int | None = None  # the descriptor the lock is taken through (never closed while users > 0)
    held: bool = False  # a Ledger of this process holds the apply lock


_FILES: dict[tuple[int, int], _File] = {}
_MUTEX = threading.Lock()


def file_key(path: str) -> tuple[int, int] | None:
    """(device, inode) of the database file, None for ``:memory:``."""
    if path == ":memory:":
        return None
    st = os.stat(path)
    return st.st_dev, st.st_ino


def opened(key: tuple[int, int] | None) -> None:
    """A Ledger of this process opened the file."""
    if key is not None:
        with _MUTEX:
            _FILES.setdefault(key, _File()).users += 1


def closed(key: tuple[int, int] | None) -> None:
    """A Ledger of this process closed the file: the last one closes the lock descriptor."""
    if key is None:
        return
    with _MUTEX:
        entry = _FILES.get(key)
        if entry is None:
            return
        entry.users -= 1
        if entry.users <= 0 and not entry.held:
            if entry.fd is not None:
                os.close(entry.fd)  # no Ledger of ours has it open: no SQLite lock of ours to drop
            del _FILES[key]


def _holder(fd: int) -> str:
    """The pid holding LOCK_BYTE (Linux F_GETLK), or "" when unknown (another PID namespace, not Linux)."""
    if not sys.platform.startswith("linux"):
        return ""
    layout = "hhqqi4x"  # struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid
    try:
        got = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack(layout, fcntl.F_WRLCK, os.SEEK_SET, LOCK_BYTE, 1, 0))
        kind, _, _, _, pid = struct.unpack(layout, got)
    except (OSError, struct.error):
        return ""
    return str(pid) if kind != fcntl.F_UNLCK and pid > 0 else ""


def _try(entry: _File, path: str) -> tuple[bool, str]:
    """One attempt: (acquired, holder pid)."""
    with _MUTEX:
        if entry.held:
            return False, str(os.getpid())
        if entry.fd is None:
            try:
                entry.fd = os.open(path, os.O_RDWR)
            except OSError as exc:
                raise ConfigError(f"cannot open {path} to take the apply lock: {exc.strerror or exc}") from None
        try:
            fcntl.lockf(entry.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, LOCK_BYTE, os.SEEK_SET)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise ConfigError(f"cannot take the apply lock on {path}: {exc.strerror or exc}") from None
            return False, _holder(entry.fd)
        entry.held = True
        return True, ""


@contextlib.contextmanager
def apply_lock(ledger: "Ledger", timeout_s: float = 10.0, poll_s: float = 0.1) -> Iterator[None]:
    """Hold the apply lock of ``ledger``; wait up to ``timeout_s`` for another apply, then raise."""
    if ledger.path == ":memory:":
        yield
        return
    if ledger.readonly:
        raise ConfigError(f"{ledger.path} is open read-only: it cannot hold the apply lock")
    key = ledger.file_key
    with _MUTEX:
        entry = _FILES.setdefault(key, _File(users=1))
    deadline = time.monotonic() + timeout_s
    while True:
        taken, pid = _try(entry, os.path.realpath(ledger.path))
        if taken:
            break
        if time.monotonic() >= deadline:
            who = f" (process {pid})" if pid else ""
            raise OrchError(f"another orch apply is running on {ledger.path}{who}; waited {timeout_s:g} s for it "
                            f"to finish — try again when it is done")
        time.sleep(poll_s)
    try:
        yield
    finally:
        with _MUTEX:
            if entry.fd is not None:
                fcntl.lockf(entry.fd, fcntl.LOCK_UN, 1, LOCK_BYTE, os.SEEK_SET)
            entry.held = False
