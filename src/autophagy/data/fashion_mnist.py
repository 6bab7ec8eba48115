"""Fashion-MNIST, offline: the IDX files of Debian's ``dataset-fashion-mnist`` package.

Train 60,000 and test 10,000 grey 28 x 28 images of ten kinds of clothing (Xiao et al.,
2017; MIT licence). Decoded arrays are cached as uint8 .npy files.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from . import DataError, DataMissing
from .cache import cache_dir, save_npy

SPLITS = ("train", "test")
FOLDER = Path("/usr/share/datasets/fashion-mnist")
FIX = ("install the Debian package dataset-fashion-mnist (`make system`, or apt-get install "
       "dataset-fashion-mnist), or point AUTOPHAGY_FASHION_MNIST at a folder with its four IDX .gz files")
CLASSES = ("T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot")


def _idx(path: Path, magic: int) -> np.ndarray:
    try:
        with gzip.open(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as err:  # missing, truncated or not gzip
        raise DataError(f"{path} cannot be read ({err}): {FIX}") from None
    if int.from_bytes(data[:4], "big") != magic:
        raise DataError(f"{path} is not an IDX file of the expected kind: {FIX}")
    ndim = magic & 0xFF
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    values = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return values.reshape(shape)


def source_folder() -> Path:
    """The folder holding the IDX files (``$AUTOPHAGY_FASHION_MNIST`` or Debian's)."""
    folder = Path(os.environ.get("AUTOPHAGY_FASHION_MNIST") or FOLDER)
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        raise DataMissing(f"Fashion-MNIST is missing from {folder}: {FIX}")
    return folder


def load(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` of one split: uint8 arrays shaped (n, 28, 28) and (n,)."""
    if split not in SPLITS:
        raise ValueError(f"unknown Fashion-MNIST split {split!r}: expected one of {', '.join(SPLITS)}")
    folder = cache_dir("fashion-mnist")
    images_path, labels_path = folder / f"{split}-images.npy", folder / f"{split}-labels.npy"
    if not (images_path.exists() and labels_path.exists()):
        source = source_folder()
        stem = "train" if split == "train" else "t10k"
        save_npy(images_path, _idx(source / f"{stem}-images-idx3-ubyte.gz", 0x0803))
        save_npy(labels_path, _idx(source / f"{stem}-labels-idx1-ubyte.gz", 0x0801))
    return np.load(images_path), np.load(labels_path)
