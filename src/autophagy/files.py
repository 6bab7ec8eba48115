"""Files written so that a crash never leaves half of one, checkpoints of named arrays read
back without pickle, and paths shown in messages."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

_META = "meta:"  # the prefix of a checkpoint's strings among its arrays


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


def checkpoint_bytes(arrays: Mapping[str, np.ndarray], meta: Mapping[str, str] | None = None) -> bytes:
    """Named arrays and a few named strings as one ``.npz`` archive: the one checkpoint format of
    every resumable piece of work (a loop's state, a starting model's training, a cached fit)."""
    if any(key.startswith(_META) for key in arrays):
        raise ValueError(f"array names may not start with {_META!r}")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, **{_META + key: np.array(value) for key, value in (meta or {}).items()})
    return buffer.getvalue()


def read_checkpoint(source: Path | bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays and strings of :func:`checkpoint_bytes`'s archive (a path or its bytes), no pickle."""
    with np.load(io.BytesIO(source) if isinstance(source, bytes) else source, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files if not key.startswith(_META)}
        meta = {key[len(_META) :]: str(archive[key]) for key in archive.files if key.startswith(_META)}
    return arrays, meta


def display_path(path: Path) -> str:
    """``path`` for an error message: very long names are shortened in the middle."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}...{text[-40:]} ({len(text)} characters)"
