"""Where the package keeps what it computes once: decoded data, trained classifiers, fits.

The folder is ``$AUTOPHAGY_CACHE`` when set, else ``~/.cache/autophagy``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from ..rundir import atomic_write


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
