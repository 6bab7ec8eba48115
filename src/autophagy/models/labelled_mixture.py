"""Two labelled classes, a minority and a majority, with Gaussian features; vectorised over
replicates.

A sample is an array (replicates, n, 2): a feature x and a label y (1: minority, 0:
majority) per example. The model fits the minority's share p (the label prior) and each
class's mean feature (unit variance, known); it samples a label from its prior and a feature
from that class. How the next generation's labels are given (``labelling``):

- ``"sampled"``: each example keeps the label it was drawn with (a class-conditional
  generator; the label counts drift neutrally, as Wright-Fisher's);
- ``"argmax"``: the model's own Bayes classifier labels each feature by its most probable
  class (labels from a classifier's predictions, as in Taori and Hashimoto's data feedback
  loops), which hands the ambiguous examples to the majority.
"""

from __future__ import annotations

import numpy as np

LABELLINGS = ("sampled", "argmax")


def labelled_sample(replicates: int, n: int, share, means: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``n`` examples per replicate: a label with minority probability ``share`` (per
    replicate) and a unit-variance feature around its class's mean (``means``: (replicates, 2),
    minority first)."""
    minority = rng.random((replicates, n)) < np.asarray(share, dtype=float).reshape(-1, 1)
    with np.errstate(invalid="ignore"):  # the mean of a class that is gone is NaN, and never used
        centre = np.where(minority, means[:, :1], means[:, 1:])
    return np.stack([rng.standard_normal((replicates, n)) + centre, minority.astype(float)], axis=-1)


class LabelledMixture:
    """``replicates`` two-class models: the minority's share and the two class means."""

    batched = True

    def __init__(self, replicates: int, share: float, separation: float, labelling: str = "sampled"):
        if labelling not in LABELLINGS:
            raise ValueError(f"labelling must be one of {LABELLINGS}")
        self.labelling = labelling
        self.share = np.full(replicates, float(share))
        self.means = np.tile([separation / 2, -separation / 2], (replicates, 1))

    def fit(self, data: np.ndarray, step=None) -> None:
        x, minority = data[..., 0], data[..., 1]
        counts = np.stack([minority.sum(axis=1), (1 - minority).sum(axis=1)], axis=1)
        sums = np.stack([(x * minority).sum(axis=1), (x * (1 - minority)).sum(axis=1)], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.means = np.where(counts > 0, sums / counts, np.nan)
        self.share = counts[:, 0] / counts.sum(axis=1)

    def minority_log_odds(self, x: np.ndarray) -> np.ndarray:
        """log P(minority | x) / P(majority | x) under the model, for features (replicates, m)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            prior = np.log(self.share) - np.log1p(-self.share)
            fit = ((x - self.means[:, 1:]) ** 2 - (x - self.means[:, :1]) ** 2) / 2
        return prior[:, None] + np.nan_to_num(fit, nan=0.0)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        data = labelled_sample(len(self.share), n, self.share, self.means, rng)
        if self.labelling == "argmax":
            data[..., 1] = self.minority_log_odds(data[..., 0]) > 0
        return data

    def accuracies(self, separation: float) -> tuple[np.ndarray, np.ndarray]:
        """The model's Bayes classifier's accuracy on each real class (minority, majority): the
        chance it labels a real minority example "minority", and a majority one "majority"
        (exact, for real classes at +-separation/2 with unit variance)."""
        from scipy.special import ndtr  # scipy is slow to import, and only this needs it

        high, low = self.means[:, 0], self.means[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            # the log-odds are a x + b, which is N(+-a s/2 + b, a^2) for a real class at +-s/2
            a = high - low
            b = np.log(self.share) - np.log1p(-self.share) - (high**2 - low**2) / 2
            minority = ndtr((a * separation / 2 + b) / np.abs(a))
            majority = ndtr((a * separation / 2 - b) / np.abs(a))
        gone, alone = self.share == 0, self.share == 1
        return (
            np.where(gone, 0.0, np.where(alone, 1.0, minority)),
            np.where(gone, 1.0, np.where(alone, 0.0, majority)),
        )

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"share": self.share, "means": self.means}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.share = np.array(state["share"], dtype=float)
        self.means = np.array(state["means"], dtype=float)
