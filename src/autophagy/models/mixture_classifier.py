"""A linear classifier trained on verified synthetic labels of a two-class Gaussian mixture: the
setting in which Feng et al. (2024) analyse verification, vectorised over replicates.

Data: y = +1 or -1 with equal chance, x | y ~ N(y mu, I_d). A generator labels each x wrongly
with probability ``label_noise`` p; a verifier of accuracy a keeps a correctly labelled example
with probability a and a wrongly labelled one with probability 1 - a; the learner averages
label * x over the first n examples kept (the mean-difference classifier) and predicts
``sign(w . x)``. Its test accuracy is exact, ``Phi(w . mu / norm(w))``, so no test set is drawn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..params import ParameterError


def verified_accuracies(
    sizes,
    accuracies,
    label_noise: float,
    features: int = 20,
    separation: float = 1.0,
    replicates: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Test accuracy, one row per (replicate, kept examples n, verifier accuracy a)."""
    if not 0 <= label_noise <= 1 or not all(0 <= a <= 1 for a in accuracies):
        raise ParameterError("label_noise and the verifier accuracies must lie in [0, 1]")
    rng = np.random.default_rng(seed)
    mu = np.zeros(features)
    mu[0] = separation
    records = []
    for a in accuracies:
        keep_right, keep_wrong = (1 - label_noise) * a, label_noise * (1 - a)
        if keep_right + keep_wrong == 0:
            raise ParameterError(
                f"a verifier of accuracy {a:g} keeps nothing from a generator with label noise {label_noise:g}"
            )
        total, done = np.zeros((replicates, features)), 0
        for n in sorted(int(n) for n in sizes):
            rows = n - done  # the kept examples up to n: the same draws for every n
            y = rng.choice([-1.0, 1.0], size=(replicates, rows))
            x = y[..., None] * mu + rng.standard_normal((replicates, rows, features))
            # a kept example is wrongly labelled with probability keep_wrong / (keep_right + keep_wrong)
            wrong = rng.random((replicates, rows)) < keep_wrong / (keep_right + keep_wrong)
            label = np.where(wrong, -y, y)
            total += np.einsum("rn,rnd->rd", label, x)
            done = n
            accuracy = stats.norm.cdf(total @ mu / np.linalg.norm(total, axis=1))
            records.append(
                pd.DataFrame(
                    {"replicate": np.arange(replicates), "n": n, "verifier_accuracy": a, "test_accuracy": accuracy}
                )
            )
    return pd.concat(records, ignore_index=True)
