"""Logistic regression refitted on its own labels over a fixed design (Dey & Donoho 2024),
vectorised over replicates.

A sample is one labelled row of the design: an array (replicates, rows, 2) of the row's index
in the design and its 0/1 label. Fitting is maximum likelihood by Newton's method on the
labels counted per design row, so a generation costs the same however many rows accumulate.
"""

from __future__ import annotations

import numpy as np

RIDGE = 1e-6  # keeps the fit finite on a separable label set; negligible against any real curvature


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def fit_counts(
    design: np.ndarray, successes: np.ndarray, trials: np.ndarray, start: np.ndarray, iterations: int = 50
) -> np.ndarray:
    """Maximum-likelihood coefficients (replicates, k) of binomial counts per design row:
    ``successes`` out of ``trials`` (both (replicates, rows)), by Newton's method from ``start``."""
    theta = np.array(start, dtype=float)
    ridge = RIDGE * np.eye(design.shape[1])
    for _ in range(iterations):
        p = sigmoid(theta @ design.T)
        gradient = (successes - trials * p) @ design - RIDGE * theta
        curvature = np.einsum("rn,ni,nj->rij", trials * p * (1 - p), design, design) + ridge
        step = np.linalg.solve(curvature, gradient[..., None])[..., 0]
        theta += step
        if np.abs(step).max() < 1e-10:
            break
    return theta


class LogisticRegression:
    """``replicates`` models P(y = 1 | x) = sigmoid(x . theta) on one fixed ``design``."""

    batched = True

    def __init__(self, replicates: int, theta, design: np.ndarray):
        self.design = np.asarray(design, dtype=float)
        self.theta = np.broadcast_to(np.asarray(theta, dtype=float), (replicates, self.design.shape[1])).copy()

    def counts(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Labels equal to 1 and labels, per replicate and design row (each (replicates, rows))."""
        reps, size = self.theta.shape[0], self.design.shape[0]
        flat = (np.arange(reps)[:, None] * size + data[..., 0].astype(np.int64)).ravel()
        successes = np.bincount(flat, weights=data[..., 1].ravel(), minlength=reps * size)
        trials = np.bincount(flat, minlength=reps * size).astype(float)
        return successes.reshape(reps, size), trials.reshape(reps, size)

    def fit(self, data: np.ndarray, step=None) -> None:
        self.theta = fit_counts(self.design, *self.counts(data), start=self.theta)

    def rows(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` design row indices per replicate: whole copies of the design, then a random part of it."""
        reps, size = self.theta.shape[0], self.design.shape[0]
        copies, extra = divmod(n, size)
        parts = [np.broadcast_to(np.arange(size), (reps, size))] * copies
        if extra:
            parts.append(np.argpartition(rng.random((reps, size)), extra - 1, axis=1)[:, :extra])
        return np.concatenate(parts, axis=1)

    def label(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Data (replicates, n, 2): the ``rows`` and labels drawn from this model."""
        p = sigmoid(np.einsum("rk,rnk->rn", self.theta, self.design[rows]))
        return np.stack([rows, rng.random(p.shape) < p], axis=2).astype(np.float32)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.label(self.rows(n, rng), rng)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"theta": self.theta}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.theta = np.array(state["theta"], dtype=float)
