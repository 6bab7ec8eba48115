"""Fashion-MNIST, offline: the IDX files of Debian's ``dataset-fashion-mnist`` package.

Train 60,000 and test 10,000 grey 28 x 28 images of ten kinds of clothing (Xiao et al.,
2017; MIT licence). The decompressed contents of each file are checked against their SHA-256
(``SHA256``: those of the Debian package; a faithful copy compressed otherwise passes too);
decoded arrays are cached as uint8 .npy files.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from . import DataError, DataMissing
from .cache import cache_dir, check_sha256, save_npy

SPLITS = ("train", "test")
FOLDER = Path("/usr/share/datasets/fashion-mnist")
FIX = (
    "install the Debian package dataset-fashion-mnist (`make system`, or apt-get install "
    "dataset-fashion-mnist), or point AUTOPHAGY_FASHION_MNIST at a folder with its four IDX .gz files"
)
REINSTALL = (
    "reinstall the Debian package dataset-fashion-mnist (apt-get install --reinstall "
    "dataset-fashion-mnist), or point AUTOPHAGY_FASHION_MNIST at a folder with its four IDX .gz files"
)
SHA256 = {  # of the decompressed IDX files of dataset-fashion-mnist 0.0~git20200523.55506a9-1
    "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


def _idx(path: Path, magic: int) -> np.ndarray:
    try:
        with gzip.open(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as err:  # missing, truncated or not gzip
        raise DataError(f"{path} cannot be read ({err}): {FIX}") from None
    check_sha256(path, SHA256[path.name], REINSTALL, "Fashion-MNIST file", data=data)
    if int.from_bytes(data[:4], "big") != magic:
        raise DataError(f"{path} is not an IDX file of the expected kind: {FIX}")
    ndim = magic & 0xFF
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
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
