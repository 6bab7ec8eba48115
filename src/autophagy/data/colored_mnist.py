"""Colored MNIST: the shipped MNIST digits drawn in red or in green, the colour independent of
the digit, for a minority *group* (Wyllie, Shumailov & Papernot, 2024).

An image is uint8 (2, 28, 28): the digit's ink in channel 0 (red, the majority) or channel 1
(green, the minority), the other channel black. Each image is green with probability
``group_share``, drawn once per split from ``seed``, so the same call gives the same data.
:func:`group_of` is an exact oracle of the colour on real images (the channel holding more
ink), and :func:`grey` folds an image back to one channel for the grey MNIST classifier.
"""

from __future__ import annotations

import numpy as np

from . import mnist

GROUPS = ("red", "green")  # the colour of channel 0 and of channel 1
MINORITY = 1  # the group kept rare: green digits
SPLIT_INDEX = {split: k for k, split in enumerate(mnist.SPLITS)}


def paint(images: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Grey digits (n, 28, 28) as uint8 (n, 2, 28, 28), the ink in channel ``groups[i]``."""
    out = np.zeros((len(images), len(GROUPS), *images.shape[1:]), np.uint8)
    out[np.arange(len(images)), np.asarray(groups, dtype=np.int64)] = images
    return out


def load(split: str = "train", group_share: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(images, labels, groups)`` of one MNIST split: uint8 images (n, 2, 28, 28), the digits
    (n,) and the group of each image (n,; 1 = green, the minority, with probability
    ``group_share``)."""
    if not 0 < group_share < 1:
        raise ValueError(f"group_share must lie in (0, 1), not {group_share}")
    images, labels = mnist.load(split)
    rng = np.random.default_rng([seed, SPLIT_INDEX[split]])
    groups = (rng.random(len(images)) < group_share).astype(np.int64)
    return paint(images, groups), labels, groups


def group_of(images: np.ndarray) -> np.ndarray:
    """The colour group (0 red, 1 green) of images (n, 2, 28, 28): the channel holding more ink
    (ties, blank images included, count as red)."""
    ink = np.asarray(images, dtype=np.float64).sum(axis=(2, 3))
    return (ink[:, 1] > ink[:, 0]).astype(np.int64)


def grey(images: np.ndarray) -> np.ndarray:
    """Images (n, 2, 28, 28) as grey uint8 (n, 28, 28): the channels' sum, clipped at 255."""
    return np.minimum(np.asarray(images, dtype=np.int64).sum(axis=1), 255).astype(np.uint8)


# the display colours of the two channels: Okabe-Ito's vermillion and bluish green, a red and a
# green that readers with red-green colour blindness can still tell apart
DISPLAY = np.array([[0.835, 0.369, 0.0], [0.0, 0.620, 0.451]])


def rgb(images: np.ndarray) -> np.ndarray:
    """Images (n, 2, 28, 28) as float RGB (n, 28, 28, 3) in [0, 1] on black, for display."""
    x = np.asarray(images, dtype=np.float64) / 255.0
    return np.clip(np.einsum("nchw,ck->nhwk", x, DISPLAY) / DISPLAY.max(axis=1).min(), 0, 1)
