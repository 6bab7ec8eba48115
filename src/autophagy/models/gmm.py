"""A one-dimensional Gaussian mixture refitted by EM (scikit-learn), one model per replicate.

Each generation's EM starts from the previous generation's parameters (a warm start, as a
neural model would), so components keep their identity; sampling is done here from the
parameters with the loop's random stream.
"""

from __future__ import annotations

import numpy as np


class GMM:
    """A mixture of ``len(means)`` univariate Gaussians; parameters sorted by mean."""

    batched = False

    def __init__(self, weights, means, stds, max_iter: int = 100):
        self.weights = np.asarray(weights, dtype=float)
        self.means = np.asarray(means, dtype=float)
        self.stds = np.asarray(stds, dtype=float)
        self.max_iter = max_iter

    def fit(self, data: np.ndarray, step) -> None:
        from sklearn.mixture import GaussianMixture

        em = GaussianMixture(
            n_components=self.means.size,
            covariance_type="spherical",
            max_iter=self.max_iter,
            weights_init=self.weights,
            means_init=self.means[:, None],
            precisions_init=1.0 / np.maximum(self.stds, 1e-3) ** 2,
            random_state=int(step.rng.integers(2**31)),
        )
        em.fit(np.asarray(data, dtype=float).reshape(-1, 1))
        order = np.argsort(em.means_[:, 0])
        self.weights = em.weights_[order]
        self.means = em.means_[order, 0]
        self.stds = np.sqrt(em.covariances_[order])

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        component = rng.choice(self.means.size, size=n, p=self.weights / self.weights.sum())
        return self.means[component] + self.stds[component] * rng.standard_normal(n)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights, "means": self.means, "stds": self.stds}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.weights = np.array(state["weights"], dtype=float)
        self.means = np.array(state["means"], dtype=float)
        self.stds = np.array(state["stds"], dtype=float)
