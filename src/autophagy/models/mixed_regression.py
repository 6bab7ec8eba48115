"""Least squares on real labels mixed with a share of labels from a wrong model: Dohmatob et
al.'s strong model collapse (2025), vectorised over replicates.

Features are Gaussian with a power-law spectrum (variance i^-decay for feature i); a real row is
labelled x . w* + noise, a synthetic one x . (w* + shift) + noise, where the shift has length
``shift_norm`` in the metric of the features' covariance. For each data size n and synthetic
share s the first round(s n) rows of the same draw are the synthetic ones (common random
numbers: the shares differ only in their labels). The test error is ||w_hat - w*||^2 in the
covariance's metric: the excess squared error on fresh real data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..params import ParameterError

CHUNK = 2048  # rows drawn at a time: memory stays replicates x CHUNK x features


def spectrum(features: int, decay: float) -> np.ndarray:
    """The features' variances i^-decay, i = 1..features."""
    return np.arange(1, features + 1, dtype=float) ** -decay


def mixed_fit_errors(
    sizes,
    shares,
    features: int = 10,
    decay: float = 1.5,
    noise: float = 1.0,
    shift_norm: float = 5.0,
    replicates: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Test errors of least squares, one row per (replicate, n, share), for every data size in
    ``sizes`` (ascending) and synthetic share in ``shares``."""
    sizes, shares = sorted(int(n) for n in sizes), [float(s) for s in shares]
    if sizes[0] < features + 2:
        raise ParameterError(
            f"data size {sizes[0]} must be at least features + 2 = {features + 2} (least squares needs n > d + 1)"
        )
    if not all(0 <= s <= 1 for s in shares):
        raise ParameterError(f"synthetic shares {shares} must lie in [0, 1]")
    rng = np.random.default_rng(seed)
    scale = np.sqrt(spectrum(features, decay))
    w_star = rng.standard_normal(features) / scale / np.sqrt(features)
    direction = rng.standard_normal(features)
    shift = shift_norm * direction / np.linalg.norm(direction) / scale  # ||shift||_Sigma = shift_norm
    # every cut the sums need: the data sizes, and each size's synthetic prefix
    cuts = sorted({n for n in sizes} | {round(s * n) for n in sizes for s in shares} - {0})
    gram = np.zeros((replicates, features, features))  # X'X of the rows drawn so far
    moment = np.zeros((replicates, features))  # X'y with their real labels
    sums, done = {}, 0  # cut -> (X'X, X'y) of the first ``cut`` rows
    for cut in cuts:
        while done < cut:
            rows = min(CHUNK, cut - done)
            x = rng.standard_normal((replicates, rows, features)) * scale
            y = x @ w_star + noise * rng.standard_normal((replicates, rows))
            gram += np.einsum("rni,rnj->rij", x, x)
            moment += np.einsum("rni,rn->ri", x, y)
            done += rows
        sums[cut] = (gram.copy(), moment.copy())
    records = []
    for n in sizes:
        full_gram, full_moment = sums[n]
        for s in shares:
            m = round(s * n)  # a synthetic row's label is its real label plus x . shift
            prefix = sums[m][0] if m else np.zeros_like(full_gram)
            w_hat = np.linalg.solve(full_gram, (full_moment + prefix @ shift)[..., None])[..., 0]
            gap = (w_hat - w_star) * scale
            records.append(
                pd.DataFrame(
                    {
                        "replicate": np.arange(replicates),
                        "n": n,
                        "share": s,
                        "synthetic_rows": m,
                        "test_error": (gap**2).sum(axis=1),
                    }
                )
            )
    return pd.concat(records, ignore_index=True)
