"""Linear regression refitted on its own labels (Gerstgrasser et al. 2024), vectorised over replicates.

Data is an array (replicates, rows, 1 + d): column 0 the label y, columns 1..d the
features x. The design is fixed: the model keeps the features of its first training set
(generation 1, real data) and labels them with its own predictions plus fresh noise of
standard deviation ``noise``. Fitting is ordinary least squares (minimum norm if singular).
"""

from __future__ import annotations

import numpy as np


class LinearRegression:
    """``replicates`` models y = x . w + noise, fitted by least squares."""

    batched = True

    def __init__(self, replicates: int, w, noise: float):
        self.w = np.broadcast_to(np.asarray(w, dtype=float), (replicates, np.size(w))).copy()
        self.noise = float(noise)
        self.design = np.zeros((replicates, 0, self.w.shape[1]))

    def fit(self, data: np.ndarray, step=None) -> None:
        y, x = data[..., 0], data[..., 1:]
        if self.design.shape[1] == 0:
            self.design = np.array(x)
        xt = x.transpose(0, 2, 1)
        gram, moment = xt @ x, xt @ y[..., None]
        try:
            self.w = np.linalg.solve(gram, moment)[..., 0]
        except np.linalg.LinAlgError:  # a subsample of an accumulated pool may repeat rows
            self.w = (np.linalg.pinv(gram, hermitian=True) @ moment)[..., 0]

    def rows(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` design rows per replicate: whole copies of the design, then a random part of it."""
        reps, size, _ = self.design.shape
        copies, extra = divmod(n, size)
        if n == size:
            return self.design
        parts = [self.design] * copies
        if extra:
            pick = np.argpartition(rng.random((reps, size)), extra - 1, axis=1)[:, :extra]
            parts.append(np.take_along_axis(self.design, pick[..., None], axis=1))
        return np.concatenate(parts, axis=1)

    def label(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Data (replicates, rows, 1 + d) with labels x . w + noise for the features ``x``."""
        y = (x @ self.w[..., None])[..., 0] + self.noise * rng.standard_normal(x.shape[:2])
        return np.concatenate([y[..., None], x], axis=2)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.label(self.rows(n, rng), rng)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"w": self.w, "design": self.design}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.w = np.array(state["w"], dtype=float)
        self.design = np.array(state["design"], dtype=float)
