"""The fresh-data threshold alpha*(n) (autophagy.threshold): its interpolation, the realised
fraction, its agreement with the Gaussian's exact threshold within its bootstrap standard
error, and the in-memory grid against the same grid run as a sweep on Dask workers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autophagy
from autophagy import threshold
from autophagy.book import claims

ALPHAS = [0.02, 0.05, 0.1, 0.2, 0.5, 1.0]


@given(st.floats(0.05, 3.0), st.floats(0.5, 0.99))
@settings(max_examples=60, deadline=None)
def test_crossing_finds_the_root_of_a_smooth_increasing_retention(power, level):
    alphas = np.geomspace(1e-3, 1.0, 25)
    retention = alphas ** (power / 10)  # increasing, 1 at alpha = 1
    root = level ** (10 / power)
    found = threshold.crossing(alphas, retention, level)
    if root <= alphas[0]:
        assert math.isnan(found)  # already kept at the smallest alpha: below the grid
    else:
        assert found == pytest.approx(root, rel=0.02)


def test_crossing_takes_the_last_shortfall_so_the_retention_stays_above_from_there_on():
    alphas = [0.1, 0.2, 0.4, 0.8, 1.0]
    retention = [0.99, 0.90, 0.97, 0.93, 1.0]  # kept at 0.1 and 0.4 but lost again at 0.8
    assert 0.8 < threshold.crossing(alphas, retention, 0.95) < 1.0


@pytest.mark.parametrize("alpha, n", [(0.01, 50), (0.05, 10), (0.3, 5), (0.5, 5), (0.7, 20)])
def test_realised_fraction_is_what_the_loop_draws(alpha, n):
    history = autophagy.run(
        "gaussian", progress=False, mode="fresh", real_fraction=alpha, samples=n, generations=2, replicates=1
    )
    assert threshold.realised(alpha, n) == pytest.approx(history.at(2)["real_share"].iloc[0])


def test_the_exact_gaussian_threshold_solves_the_retention_equation():
    for n in (5, 50, 500):
        a = threshold.gaussian_threshold(n, 50, tolerance=0.05)
        assert threshold.gaussian_retention(a, n, 50)[0] == pytest.approx(0.95, abs=1e-9)


def test_measured_gaussian_threshold_holds_the_exact_one_within_its_standard_error():
    final = threshold.fresh_grid("gaussian", ALPHAS, [10, 50], generations=30, replicates=1500)
    found = threshold.estimate(final, "var", tolerance=0.05, resamples=300)
    for n, row in found.table.iterrows():
        exact = threshold.gaussian_threshold(n, 30, tolerance=0.05, alphas=ALPHAS)
        assert row["low"] <= row["alpha_star"] <= row["high"]
        claim = claims.Claim(
            "t", "s", "src", claims.Estimate(row["alpha_star"], row["se"], int(row["loops"])), target=exact
        )
        assert claim.verdict == claims.HOLDS, (n, row.to_dict(), exact)


def test_estimate_refuses_a_grid_without_the_real_only_baseline():
    final = pd.DataFrame(
        {"real_fraction": [0.1, 0.5], "samples": 10, "seed": 0, "replicate": 0, "generation": 3, "var": [0.5, 0.9]}
    )
    with pytest.raises(ValueError, match="real-only"):
        threshold.estimate(final, "var")


@pytest.mark.slow
def test_the_in_memory_grid_gives_the_last_generation_of_the_same_grid_swept_on_workers(tmp_path):
    grid = {"real_fraction": [0.1, 1.0], "samples": [10, 40]}
    swept = autophagy.sweep(
        "gaussian",
        tmp_path / "sweep",
        grid,
        seeds=1,
        workers=2,
        progress=False,
        mode="fresh",
        generations=4,
        replicates=3,
    ).final()
    here = threshold.fresh_grid("gaussian", grid["real_fraction"], grid["samples"], generations=4, replicates=3)
    columns = ["samples", "real_fraction", "seed", "replicate", "generation", "var", "mean", "w2"]
    key = ["samples", "real_fraction", "replicate"]
    pd.testing.assert_frame_equal(
        swept[columns].sort_values(key).reset_index(drop=True),
        here[columns].sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )
