"""Wall-clock timing shared by the benchmark scripts."""

from __future__ import annotations

import time

import numpy as np


def timed(fn, repeat: int = 1) -> float:
    """Best wall-clock seconds of ``repeat`` calls of ``fn``."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
