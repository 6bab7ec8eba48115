"""Image metrics from a small classifier's features: FID, precision/recall/density/coverage,
class entropy and confidence.

FID (Heusel et al., 2017) is the Fréchet distance between Gaussians fitted to the features
of two image sets; we use the 128 penultimate features of a small CNN trained on the real
data set instead of Inception, so the numbers are comparable within this book only.
Precision and recall (Kynkäänniemi et al., 2019) and density and coverage (Naeem et al.,
2020) come from the ``prdc`` package on the same features. ``class_entropy`` is the entropy
(bits; log2(10) = 3.32 for ten equally common classes) of the classifier's predicted labels
(it falls when modes vanish); ``confidence`` is the mean top-class probability (quality).

A classifier trained on real images alone maps pure noise into the middle of the real
features, where the k-nearest-neighbour balls of unusual real images are wide: uniform noise
then scored a precision of 1.00 against real digits' 0.93. So the feature classifier is
trained with one more class, *not an image of the data set*, on corrupted training images
(:func:`corruptions`: uniform noise, Gaussian blobs, shuffled pixels, Gaussian blur), in the
spirit of outlier exposure (Hendrycks et al., 2019): the features of such images move to a
region of their own, and precision and recall measure what they claim. Its probabilities,
confidence and labels are over the data set's classes only.
The classifier runs on :func:`~autophagy.models.device.default_device` and is cached with CPU
tensors, so a cached classifier loads on either device.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..data import fashion_mnist, mnist
from ..data.cache import cache_dir
from ..models.device import default_device
from ..files import atomic_write

DATASETS = {"mnist": mnist.load, "fashion-mnist": fashion_mnist.load}
VERSION = 2  # bump when the architecture or training recipe changes (invalidates the cache)
FEATURES = 128


class Classifier(nn.Module):
    """Two convolution + pooling layers, a 128-unit feature layer and a ``classes``-way output
    (plus one output for "none of them" with ``reject``)."""

    def __init__(self, width: int = 16, classes: int = 10, reject: bool = False):
        super().__init__()
        self.classes = classes
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * width * 49, FEATURES), nn.ReLU(),
        )
        self.head = nn.Linear(FEATURES, classes + int(reject))

    def forward(self, x):
        return self.head(self.body(x))

    @torch.no_grad()
    def _map(self, images: np.ndarray, fn, batch: int = 2000) -> np.ndarray:
        self.eval()
        x, device = _tensor(images), next(self.parameters()).device
        return torch.cat([fn(x[i:i + batch].to(device)).cpu() for i in range(0, len(x), batch)]).double().numpy()

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


def train_classifier(images: np.ndarray, labels: np.ndarray, epochs: int = 2, seed: int = 0,
                     width: int = 16, batch: int = 128, progress: bool = True, classes: int = 10,
                     reject: int = 0) -> Classifier:
    """A :class:`Classifier` trained with Adam on ``images`` (n, 28, 28) and ``labels`` (n,),
    on :func:`~autophagy.models.device.default_device` (the shuffles come from a CPU generator).
    With ``reject`` > 0, that many :func:`corruptions` of training images join as one more class."""
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
            idx = order[i:i + batch]
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


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + tr(C1 + C2 - 2 (C1 C2)^(1/2)) between two Gaussians."""
    vals, vecs = np.linalg.eigh(cov1)
    root1 = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    # tr (C1 C2)^(1/2) = tr (C1^(1/2) C2 C1^(1/2))^(1/2), a symmetric PSD matrix
    middle = np.linalg.eigvalsh(root1 @ cov2 @ root1)
    cross = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * cross)


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (n, d)."""
    return frechet_distance(features_a.mean(0), np.cov(features_a, rowvar=False),
                            features_b.mean(0), np.cov(features_b, rowvar=False))


def class_entropy(probabilities: np.ndarray, classes: int = 10) -> float:
    """Entropy (bits) of the histogram of predicted classes."""
    counts = np.bincount(probabilities.argmax(1), minlength=classes)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


class ImageScorer:
    """Scores image sets against ``reference`` real images with ``net``'s features."""

    NAMES = ("fid", "precision", "recall", "density", "coverage", "class_entropy", "confidence",
             *(f"share_{k}" for k in range(10)))

    def __init__(self, net: Classifier, reference: np.ndarray, nearest_k: int = 5):
        self.net, self.nearest_k = net, nearest_k
        self.reference = self.net.features(reference)

    def __call__(self, images: np.ndarray) -> dict[str, float]:
        """Every metric of :data:`NAMES` for ``images`` (n, 28, 28)."""
        from prdc import compute_prdc

        feats = self.net.features(images)
        probs = self.net.probabilities(images)
        with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the set sizes
            prdc = compute_prdc(self.reference.astype(np.float32), feats.astype(np.float32), self.nearest_k)
        return {
            "fid": fid(feats, self.reference),
            **{k: float(v) for k, v in prdc.items()},
            "class_entropy": class_entropy(probs),
            "confidence": float(probs.max(1).mean()),
            **{f"share_{k}": float(v) for k, v in enumerate(np.bincount(probs.argmax(1), minlength=10) / len(probs))},
        }


def image_quality(model, dataset: str, samples: int = 500, conditional: bool = False,
                  seed: int = 0) -> dict[str, float]:
    """How well ``model`` learned ``dataset``, on held-out data: its samples scored against the
    first ``samples`` test images, beside the same scores for as many real training images
    (``*_real``: what a perfect model would get at this sample size). With ``conditional``,
    ``label_agreement`` is the share of samples drawn for a requested class (each class equally
    often) that the classifier puts in that class."""
    net = classifier(dataset)
    train, test = DATASETS[dataset]("train")[0], DATASETS[dataset]("test")[0]
    scorer = ImageScorer(net, test[:samples])
    rng = np.random.default_rng(seed)
    real = scorer(train[rng.choice(len(train), samples, replace=False)])
    images = model.sample(samples, rng)
    fake = scorer(images)
    out = {**{k: round(v, 4) for k, v in fake.items()}, **{f"{k}_real": round(v, 4) for k, v in real.items()}}
    out["classes_present"] = int((np.bincount(net.probabilities(images).argmax(1), minlength=10) > 0).sum())
    if conditional:
        labels = np.arange(samples) % 10
        predicted = net.probabilities(model.sample(samples, rng, labels=labels)).argmax(1)
        out["label_agreement"] = round(float((predicted == labels).mean()), 4)
    return out
