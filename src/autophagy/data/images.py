"""The image data sets by name: ``DATASETS`` maps "mnist" and "fashion-mnist" to their loaders
(:func:`autophagy.data.mnist.load`, :func:`autophagy.data.fashion_mnist.load`), each giving the
uint8 ``(images, labels)`` of a split, images shaped (n, 28, 28)."""

from __future__ import annotations

from . import fashion_mnist, mnist

DATASETS = {"mnist": mnist.load, "fashion-mnist": fashion_mnist.load}
