"""A folder that one process writes at a time, and that a crash never leaves half-written.

The writer holds ``.lock`` (flock; the kernel releases it when the process dies, so a killed
writer never leaves it stuck), with its pid inside for the message another writer gets. Every
file goes in through a temporary name and a rename (:func:`autophagy.files.atomic_write`):
the writer that takes the lock next removes the temporaries a killed one left.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from ..files import display_path
from ..params import ParameterError

LOCK = ".lock"
LOCK_WAIT_S = 120  # a run whose previous worker is still dying waits this long for its lock


def is_stale_temporary(path: Path) -> bool:
    """Whether ``path`` is an atomic write's temporary file (``.NAME.tmpPID``): in a folder
    whose lock is free, one left by a process killed mid-write."""
    return path.name.startswith(".") and ".tmp" in path.name


class LockedFolder:
    """The folder ``path`` (a command's ``--out``); :meth:`lock` makes this process its only
    writer. A subclass names the JSON file that says what the folder holds (``described_by``),
    what it holds (``holds``, for messages) and how a description differs from its own
    (:meth:`differences`)."""

    described_by = ""
    holds = ""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = None

    def check(self) -> None:
        """Refuse, in one line and before anything is written, a path that is not a folder, a
        folder that holds something else, or one that holds this kind of work with other settings."""
        if "\x00" in str(self.path):
            raise ParameterError("--out contains a NUL character: choose another directory name")
        try:
            self._check()
        except OSError as err:
            raise ParameterError(f"--out {display_path(self.path)} cannot be used: {err.strerror or err}") from None

    def _check(self) -> None:
        shown = display_path(self.path)
        if self.path.exists() and not self.path.is_dir():
            raise ParameterError(f"--out {shown} exists and is not a directory")
        description = self.path / self.described_by
        if description.exists():
            try:
                old = json.loads(description.read_text())
            except ValueError:
                raise ParameterError(
                    f"--out {shown} holds an unreadable {self.described_by}: choose a new directory"
                ) from None
            other = self.differences(old if isinstance(old, dict) else {})
            if other:
                raise ParameterError(f"--out {shown} holds {other}: choose a new directory")
        elif self.path.is_dir() and not self.holds_only_leftovers():
            raise ParameterError(f"--out {shown} {self.foreign()}: choose a new directory")

    def differences(self, old: dict[str, Any]) -> str:
        """What the folder holds instead, as a phrase ("a sweep with other seeds"), when its
        description ``old`` is not this writer's; "" when it is."""
        raise NotImplementedError

    def foreign(self) -> str:
        """What is wrong with a folder that has files but no description."""
        return f"is not empty and holds no {self.holds}"

    def holds_only_leftovers(self) -> bool:
        """Whether the folder holds nothing but its ``.lock`` and stale temporary files."""
        return all(p.name == LOCK or is_stale_temporary(p) for p in self.path.iterdir())

    def holder(self) -> str:
        """`` (pid N)``, the writer that holds the lock (or held it last), for a message; else ``""``."""
        try:
            pid = (self.path / LOCK).read_text().strip()
        except OSError:
            pid = ""
        return f" (pid {pid})" if pid.isdigit() else ""

    def is_locked(self) -> bool:
        """Whether a writer (this process through another handle included) holds the lock."""
        if not (self.path / LOCK).exists():
            return False
        with open(self.path / LOCK) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    def wait_until_free(self, seconds: float = LOCK_WAIT_S) -> None:
        """Wait up to ``seconds`` while another writer (a worker that is still dying) holds the lock."""
        deadline = time.monotonic() + seconds
        while self.is_locked() and time.monotonic() < deadline:
            time.sleep(0.2)

    def lock(self) -> bool:
        """Take the lock (the folder must exist), write this process's pid into it and remove
        the temporaries a killed writer left; False when another writer holds it."""
        self._lock = open(self.path / LOCK, "a+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            self._lock = None
            return False
        self._lock.truncate(0)
        self._lock.write(str(os.getpid()))
        self._lock.flush()
        for stale in filter(is_stale_temporary, self.path.iterdir()):
            stale.unlink()
        return True

    def unlock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None
