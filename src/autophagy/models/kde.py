"""A Gaussian kernel density estimate with a fixed bandwidth, vectorised over replicates.

Fitting keeps the training set as the kernels' centres; sampling picks a centre uniformly
and adds h times a standard normal. The model's variance is the data's plus h^2, so with h
fixed the spread inflates generation after generation instead of collapsing: the next
variance has expectation (N-1)/N (s^2 + h^2), tending to (N-1) h^2.
"""

from __future__ import annotations

import numpy as np


class KDE:
    """``replicates`` one-dimensional KDEs with bandwidth ``bandwidth`` (same units as data)."""

    batched = True

    def __init__(self, replicates: int, bandwidth: float):
        self.bandwidth = float(bandwidth)
        self.centres = np.zeros((replicates, 0))

    def fit(self, data: np.ndarray, step=None) -> None:
        self.centres = np.array(data, dtype=float)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        reps, size = self.centres.shape
        picked = np.take_along_axis(self.centres, rng.integers(size, size=(reps, n)), axis=1)
        return picked + self.bandwidth * rng.standard_normal((reps, n))

    @property
    def data_var(self) -> np.ndarray:
        """Maximum-likelihood variance of the training set, per replicate."""
        return self.centres.var(axis=1)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"centres": self.centres}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.centres = np.array(state["centres"], dtype=float)
