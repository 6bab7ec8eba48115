"""Files written so that a crash never leaves half of one, and paths shown in messages."""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (the temporary file is
    removed when writing fails)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def is_stale_temporary(path: Path) -> bool:
    """Whether ``path`` is an :func:`atomic_write` temporary file (``.NAME.tmpPID``): in a
    folder whose lock is free, one left by a process killed mid-write."""
    return path.name.startswith(".") and ".tmp" in path.name


def holds_only_leftovers(folder: Path) -> bool:
    """Whether ``folder`` holds nothing but its ``.lock`` and stale temporary files."""
    return all(p.name == ".lock" or is_stale_temporary(p) for p in folder.iterdir())


def remove_stale_temporaries(folder: Path) -> None:
    """Delete the temporary files a killed process left in ``folder`` (call holding its lock)."""
    for stale in filter(is_stale_temporary, folder.iterdir()):
        stale.unlink()


def display_path(path: Path) -> str:
    """``path`` for an error message: very long names are shortened in the middle."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}...{text[-40:]} ({len(text)} characters)"
