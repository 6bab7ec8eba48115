"""A univariate Gaussian refitted on its own samples, vectorised over replicates.

Two equivalent ways to run it:

- ``method="sample"`` draws the N points, as a reader would write it;
- ``method="exact"`` draws only the sufficient statistics: the sample mean is
  N(mu, sigma^2 / N) and the sum of squared deviations is sigma^2 chi2_{N-1}, independent of
  each other, so a generation costs the same for any N (the variance's exact recursion:
  next sigma^2 = sigma^2 chi2_{N-1} / (N - ddof)).
"""

from __future__ import annotations

import numpy as np

from ..engine.trainsets import Summarised

ESTIMATORS = {"mle": 0, "unbiased": 1}
METHODS = ("exact", "sample")


class GaussianStats(Summarised):
    """Per-replicate (count, mean, sum of squared deviations) of a sample."""

    def __init__(self, count: int, mean: np.ndarray, m2: np.ndarray):
        self.count = int(count)
        self.mean = mean
        self.m2 = m2

    @classmethod
    def concat(cls, parts: list[GaussianStats]) -> GaussianStats:
        count = sum(p.count for p in parts)
        mean = sum(p.count * p.mean for p in parts) / count
        m2 = sum(p.m2 + p.count * (p.mean - mean) ** 2 for p in parts)
        return cls(count, mean, m2)

    def size(self) -> int:
        return self.count

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"count": np.asarray(self.count), "mean": self.mean, "m2": self.m2}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> GaussianStats:
        return cls(int(arrays["count"]), arrays["mean"], arrays["m2"])


class Gaussian:
    """``replicates`` independent Gaussians N(mu, sigma^2), fitted by ``estimator``.

    ``truncation`` (psi in (0, 1]) samples from N(mu, (psi sigma)^2): sampling bias that
    trades diversity for typicality (Xing et al.'s Figure 3c).
    """

    batched = True

    def __init__(
        self,
        replicates: int,
        estimator: str = "mle",
        method: str = "exact",
        truncation: float = 1.0,
        mu: float = 0.0,
        sigma: float = 1.0,
    ):
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}")
        self.ddof = ESTIMATORS[estimator]
        self.method = method
        self.truncation = truncation
        self.mu = np.full(replicates, float(mu))
        self.sigma = np.full(replicates, float(sigma))

    @property
    def var(self) -> np.ndarray:
        return self.sigma**2

    def fit(self, data, step=None) -> None:
        """The estimator on ``data`` (no randomness: ``step`` is not used)."""
        if isinstance(data, GaussianStats):
            count, mean, m2 = data.count, data.mean, data.m2
        else:
            count, mean = data.shape[1], data.mean(axis=1)
            m2 = ((data - mean[:, None]) ** 2).sum(axis=1)
        self.mu = np.asarray(mean, dtype=float)
        self.sigma = np.sqrt(m2 / (count - self.ddof))

    def sample(self, n: int, rng: np.random.Generator):
        scale = self.truncation * self.sigma
        if self.method == "exact":
            mean = self.mu + scale * rng.standard_normal(self.mu.shape) / np.sqrt(n)
            m2 = scale**2 * rng.chisquare(n - 1, self.mu.shape) if n > 1 else np.zeros_like(self.mu)
            return GaussianStats(n, mean, m2)
        draws = rng.standard_normal((self.mu.size, n))
        draws *= scale[:, None]
        draws += self.mu[:, None]
        return draws

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"mu": self.mu, "sigma": self.sigma}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.mu = np.array(state["mu"], dtype=float)
        self.sigma = np.array(state["sigma"], dtype=float)
