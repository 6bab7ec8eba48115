"""Where the package keeps what it computes once: decoded data, trained classifiers, fits.

The folder is ``$AUTOPHAGY_CACHE`` when set, else ``~/.cache/autophagy``. It also keeps the
verdicts of :func:`check_sha256` on files that take long to hash.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from pathlib import Path

import numpy as np

from ..files import atomic_write
from . import DataError


def cache_dir(*parts: str) -> Path:
    """The cache folder (or a sub-folder of it), created if missing."""
    root = Path(os.environ.get("AUTOPHAGY_CACHE") or Path.home() / ".cache" / "autophagy")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_npy(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` (.npy, no pickle) atomically."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    atomic_write(path, buffer.getvalue())


VERDICT_SECONDS = 0.5  # a file that took longer to hash is not hashed again while unchanged


def _verdict(path: Path, expected: str) -> Path | None:
    """Where the verdict "``path`` has SHA-256 ``expected``" is kept, keyed by the file's
    path, size and modification time (None when the cache folder cannot be used)."""
    try:
        stat = path.stat()
        key = json.dumps([str(path.resolve()), stat.st_size, stat.st_mtime_ns, expected])
        return cache_dir("verified") / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.ok"
    except OSError:
        return None


def check_sha256(
    path: str | os.PathLike, expected: str, fix: str, what: str = "file", data: bytes | None = None
) -> None:
    """Raise :class:`DataError` naming ``path`` and ending with ``fix`` (how to reinstall the
    package it comes from) unless the file, or ``data`` (its contents as read, or decoded),
    has the SHA-256 ``expected``.

    A file whose hashing took over :data:`VERDICT_SECONDS` gets its verdict kept in the cache
    folder: while its path, size and modification time are the same it is not hashed again.
    """
    path = Path(path)
    verdict = None
    if data is None:
        verdict = _verdict(path, expected)
        if verdict is not None and verdict.exists():
            return
        start = time.monotonic()
        try:
            with open(path, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as err:
            raise DataError(f"{path} cannot be read ({err.strerror or err}): {fix}") from None
        slow = time.monotonic() - start > VERDICT_SECONDS
    else:
        digest, slow = hashlib.sha256(data).hexdigest(), False
    if digest != expected:
        raise DataError(f"{path} is not the expected {what} (SHA-256 differs): {fix}")
    if slow and verdict is not None:
        try:
            atomic_write(verdict, b"")
        except OSError:  # a read-only cache: hash again next time
            pass
