"""The image classifier behind the image metrics and the image detector: a small CNN
(:class:`autophagy.models.image_classifier.Classifier`) whose 128 penultimate features
:mod:`autophagy.metrics.image` compares and whose predicted classes it counts. The feature
classifier of a data set (:func:`autophagy.models.image_classifier.classifier`) also learns one
more class, *not an image of the data set*, from corrupted training images
(:func:`autophagy.models.image_classifier.corruptions`), so that noise does not land among the
real features; it is trained on first use on :func:`~autophagy.models.device.default_device`
and cached with CPU tensors, so a cached classifier loads on either device.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..data.cache import cache_dir
from ..data.images import DATASETS
from ..files import atomic_write
from .device import default_device

VERSION = 2  # bump when the architecture or training recipe changes (invalidates the cache)
FEATURES = 128


class Classifier(nn.Module):
    """Two convolution + pooling layers, a 128-unit feature layer and a ``classes``-way output
    (plus one output for "none of them" with ``reject``)."""

    def __init__(self, width: int = 16, classes: int = 10, reject: bool = False):
        super().__init__()
        self.classes = classes
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * width * 49, FEATURES),
            nn.ReLU(),
        )
        self.head = nn.Linear(FEATURES, classes + int(reject))

    def forward(self, x):
        return self.head(self.body(x))

    @torch.no_grad()
    def _map(self, images: np.ndarray, fn, batch: int = 2000) -> np.ndarray:
        self.eval()
        x, device = _tensor(images), next(self.parameters()).device
        return torch.cat([fn(x[i : i + batch].to(device)).cpu() for i in range(0, len(x), batch)]).double().numpy()

    def features(self, images: np.ndarray) -> np.ndarray:
        """Penultimate features (n, 128) of uint8 or [0, 1] float images (n, 28, 28)."""
        return self._map(images, self.body)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Probabilities (n, classes) of the data set's classes (a reject output is left out)."""
        return self._map(images, lambda x: F.softmax(self(x)[:, : self.classes], dim=1))

    def confidence(self, images: np.ndarray) -> np.ndarray:
        """Top-class probability of each image (n,): a quality score in [0.1, 1]."""
        return self.probabilities(images).max(axis=1)


def _tensor(images: np.ndarray) -> torch.Tensor:
    x = np.asarray(images)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    return torch.from_numpy(x).reshape(len(x), 1, 28, 28)


def corruptions(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each uint8 image (n, 28, 28) turned into a non-image of one of four kinds, in turn:
    uniform noise, a few Gaussian blobs, its own pixels shuffled, or a Gaussian blur of
    standard deviation 1.2 to 3 pixels (the strength of each drawn from ``rng``)."""
    from scipy.ndimage import gaussian_filter

    out = np.empty((len(images), 28, 28), np.uint8)
    grid = np.mgrid[0:28, 0:28].astype(np.float64)
    for i, image in enumerate(np.asarray(images)):
        kind = i % 4
        if kind == 0:
            out[i] = rng.integers(0, 256, (28, 28))
        elif kind == 1:
            field = np.zeros((28, 28))
            for _ in range(rng.integers(1, 5)):
                centre, width = rng.uniform(4, 24, 2), rng.uniform(2, 6)
                field += rng.uniform(0.4, 1) * np.exp(-((grid - centre[:, None, None]) ** 2).sum(0) / (2 * width**2))
            out[i] = np.clip(255 * field, 0, 255)
        elif kind == 2:
            out[i] = rng.permutation(image.ravel()).reshape(28, 28)
        else:
            out[i] = np.clip(gaussian_filter(image.astype(np.float64), rng.uniform(1.2, 3)), 0, 255)
    return out


def train_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    epochs: int = 2,
    seed: int = 0,
    width: int = 16,
    batch: int = 128,
    progress: bool = True,
    classes: int = 10,
    reject: int = 0,
) -> Classifier:
    """A :class:`autophagy.models.image_classifier.Classifier` trained with Adam on ``images``
    (n, 28, 28) and ``labels`` (n,), on :func:`~autophagy.models.device.default_device` (the
    shuffles come from a CPU generator). With ``reject`` > 0, that many
    :func:`autophagy.models.image_classifier.corruptions` of training images join as one more class."""
    device = default_device()
    generator = torch.Generator().manual_seed(seed)
    if reject:
        rng = np.random.default_rng(seed)
        source = np.asarray(images)[rng.choice(len(images), reject, replace=reject > len(images))]
        images = np.concatenate([np.asarray(images), corruptions(source, rng)])
        labels = np.concatenate([np.asarray(labels), np.full(reject, classes)])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = Classifier(width, classes, reject=bool(reject)).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    x = _tensor(images).to(device)
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64), device=device)
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator).to(device)
        for i in tqdm(range(0, len(x), batch), desc="train classifier", leave=False, disable=not progress):
            idx = order[i : i + batch]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    net.eval()
    return net


def accuracy(net: Classifier, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of ``images`` whose predicted class is ``labels``."""
    return float((net.probabilities(images).argmax(1) == np.asarray(labels)).mean())


def classifier(dataset: str = "mnist", images: int | None = None, progress: bool = True) -> Classifier:
    """The feature classifier of ``dataset`` ("mnist" or "fashion-mnist"), trained on the
    first ``images`` of its train split (all when None) and a tenth as many corrupted images
    as a reject class, on first use and cached: 2 epochs, about a minute on a CPU for the
    whole split."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}: expected one of {', '.join(DATASETS)}")
    x, y = DATASETS[dataset]("train")
    n = len(x) if images is None else min(int(images), len(x))
    path = cache_dir("classifiers") / f"{dataset}-v{VERSION}-n{n}.pt"
    net = Classifier(reject=True)
    if path.exists():
        net.load_state_dict(torch.load(path, weights_only=True, map_location="cpu"))
        return net.to(default_device()).eval()
    net = train_classifier(x[:n], y[:n], progress=progress, reject=n // 10)
    buffer = io.BytesIO()
    torch.save(net.cpu().state_dict(), buffer)  # CPU tensors: the cache loads on any device
    atomic_write(path, buffer.getvalue())
    return net.to(default_device())
