"""The Wisconsin diagnostic breast-cancer data (Street, Wolberg & Mangasarian 1993): 569 tumours,
30 measurements of their cell nuclei and a diagnosis, as shipped inside scikit-learn (no download).

The logistic loop uses measurements of texture and regularity, not of size: a fit to size
separates the diagnoses almost perfectly, and a model that predicts with certainty has no
maximum-likelihood estimate on its own labels.
"""

from __future__ import annotations

import numpy as np

from . import DataMissing

MEASUREMENTS = ("mean texture", "mean smoothness", "mean symmetry", "mean fractal dimension")


def design(features: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixed design, (569, 1 + features): a column of ones and the first ``features``
    ``MEASUREMENTS``, each standardised; and the diagnoses (1 = benign)."""
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError:
        raise DataMissing("the breast-cancer data ships with scikit-learn: pip install scikit-learn") from None
    data = load_breast_cancer()
    columns = [list(data.feature_names).index(name) for name in MEASUREMENTS[:features]]
    x = data.data[:, columns]
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return np.column_stack([np.ones(len(x)), x]), data.target.astype(float)
