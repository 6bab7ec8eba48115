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
then scored a precision of 1.00 against real digits' 0.93. So the feature classifier
(:func:`autophagy.models.image_classifier.classifier`) is trained with one more class, *not an
image of the data set*, on corrupted training images
(:func:`autophagy.models.image_classifier.corruptions`: uniform noise, Gaussian blobs, shuffled
pixels, Gaussian blur), in the spirit of outlier exposure (Hendrycks et al., 2019): the features
of such images move to a region of their own, and precision and recall measure what they claim.
Its probabilities, confidence and labels are over the data set's classes only.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np

from ..data.images import DATASETS
from ..models.image_classifier import Classifier, classifier


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
    return frechet_distance(
        features_a.mean(0), np.cov(features_a, rowvar=False), features_b.mean(0), np.cov(features_b, rowvar=False)
    )


def class_entropy(probabilities: np.ndarray, classes: int = 10) -> float:
    """Entropy (bits) of the histogram of predicted classes."""
    counts = np.bincount(probabilities.argmax(1), minlength=classes)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def compute_prdc_quiet(reference: np.ndarray, features: np.ndarray, nearest_k: int) -> dict[str, float]:
    """Precision, recall, density and coverage (the ``prdc`` package) of ``features`` against
    ``reference`` features, without the set sizes it prints."""
    from prdc import compute_prdc

    with contextlib.redirect_stdout(io.StringIO()):
        out = compute_prdc(reference.astype(np.float32), features.astype(np.float32), nearest_k)
    return {k: float(v) for k, v in out.items()}


class ImageScorer:
    """Scores image sets against ``reference`` real images with ``net``'s features."""

    NAMES = (
        "fid",
        "precision",
        "recall",
        "density",
        "coverage",
        "class_entropy",
        "confidence",
        *(f"share_{k}" for k in range(10)),
    )

    def __init__(self, net: Classifier, reference: np.ndarray, nearest_k: int = 5):
        self.net, self.nearest_k = net, nearest_k
        self.reference = self.net.features(reference)

    def __call__(self, images: np.ndarray) -> dict[str, float]:
        """Every metric of :data:`NAMES` for ``images`` (n, 28, 28)."""
        return self.score(self.net.features(images), self.net.probabilities(images))

    def score(self, feats: np.ndarray, probs: np.ndarray) -> dict[str, float]:
        """Every metric of :data:`NAMES` from the images' features and class probabilities."""
        return {
            "fid": fid(feats, self.reference),
            **compute_prdc_quiet(self.reference, feats, self.nearest_k),
            "class_entropy": class_entropy(probs),
            "confidence": float(probs.max(1).mean()),
            **{f"share_{k}": float(v) for k, v in enumerate(np.bincount(probs.argmax(1), minlength=10) / len(probs))},
        }


def image_quality(
    model, dataset: str, samples: int = 500, conditional: bool = False, seed: int = 0
) -> dict[str, float]:
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
