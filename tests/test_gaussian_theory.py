"""The Gaussian loop against the closed forms of autophagy.theory.

Tolerances come from the Monte-Carlo standard error of each estimate: a test fails when the
simulation is more than Z standard errors from theory (a false alarm has probability ~1e-4).
"""

import numpy as np
import pytest
from scipy import stats

from autophagy import run, theory

Z = 4.0


def check_mean(values, expected):
    values = np.asarray(values)
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert abs(values.mean() - expected) < Z * se, (values.mean(), expected, se)


def check_variance(values, expected):
    """Sample variance against theory; se from the sample's fourth moment."""
    values = np.asarray(values)
    dev = (values - values.mean()) ** 2
    se = dev.std(ddof=1) / np.sqrt(values.size)
    assert abs(dev.mean() - expected) < Z * se, (dev.mean(), expected, se)


def final(n, t, estimator="mle", reps=4000, **kw):
    history = run(
        "gaussian", samples=n, generations=t, replicates=reps, estimator=estimator, progress=False, seed=11, **kw
    )
    return history.at(t)


@pytest.mark.parametrize("estimator, ddof", [("mle", 0), ("unbiased", 1)])
def test_expected_variance_matches_r_to_the_t(estimator, ddof):
    rows = final(20, 30, estimator)
    check_mean(rows["var"], theory.expected_variance(30, 20, ddof))


@pytest.mark.parametrize("estimator, ddof", [("mle", 0), ("unbiased", 1)])
def test_variance_of_the_mean_matches_theory(estimator, ddof):
    rows = final(20, 30, estimator)
    check_variance(rows["mean"], theory.mean_variance(30, 20, ddof))


@pytest.mark.parametrize("estimator, ddof", [("mle", 0), ("unbiased", 1)])
def test_log_variance_is_a_random_walk_with_the_predicted_drift(estimator, ddof):
    rows = final(50, 200, estimator)
    log_var = np.log(rows["var"])
    check_mean(log_var, 200 * theory.log_variance_drift(50, ddof))
    check_variance(log_var, 200 * theory.log_variance_step_variance(50))


def test_median_variance_is_exp_of_t_times_drift():
    rows = final(50, 400, "mle")
    below = (rows["var"] < theory.median_variance(400, 50, 0)).mean()
    se = np.sqrt(0.25 / len(rows))
    assert abs(below - 0.5) < Z * se


def test_collapse_bound_holds():
    rows = final(20, 200, "mle", reps=2000)
    alive = (np.sqrt(rows["var"]) > 0.3).mean()
    bound = theory.collapse_bound(200, 20, 0.3)
    assert alive <= bound + Z * np.sqrt(bound * (1 - bound) / len(rows) + 1e-12)


def test_fresh_mode_reaches_the_closed_form_fixed_point():
    n, alpha, t = 100, 0.1, 150
    rows = final(n, t, "mle", mode="fresh", real_fraction=alpha)
    e_inf, v_inf = theory.fresh_fixed_point(n, alpha)
    e_t, v_t = theory.fresh_moments(t, n, alpha)
    assert abs(e_t - e_inf) < 1e-6  # the recursion has converged by t
    check_mean(rows["var"], e_inf)
    check_variance(rows["mean"], v_inf)


@pytest.mark.parametrize("psi", [0.7, 0.9])
def test_truncation_multiplies_the_variance_by_psi_squared(psi):
    rows = final(1000, 4, "mle", reps=2000, truncation=psi)
    # generation 1 is fitted on real data, generations 2..4 on truncated samples
    check_mean(rows["var"], theory.expected_variance(4, 1000, 0) * theory.truncation_factor(psi) ** 3)


@pytest.mark.parametrize("q", [0.5, 0.8, 0.95])
def test_central_selection_shrinks_the_variance_by_its_factor(q):
    history = run(
        "gaussian",
        samples=2000,
        generations=2,
        replicates=400,
        central_fraction=q,
        method="sample",
        progress=False,
        seed=5,
    )
    ratio = history.at(2)["var"].to_numpy() / history.at(1)["var"].to_numpy()
    # the selected set's variance ratio, up to the O(1/N) finite-sample bias of selection
    se = ratio.std(ddof=1) / np.sqrt(ratio.size)
    assert abs(ratio.mean() - theory.central_selection_factor(q)) < Z * se + 2 / 2000


def test_exact_and_sample_methods_agree_in_distribution():
    kw = dict(samples=30, generations=25, replicates=3000, progress=False)
    exact = run("gaussian", method="exact", seed=1, **kw).at(25)
    sample = run("gaussian", method="sample", seed=2, **kw).at(25)
    for column in ("var", "mean"):
        assert stats.ks_2samp(exact[column], sample[column]).pvalue > 1e-4


def test_reference_values_of_the_seed_figure():
    """The reference values of Xing et al.'s Figure 2 setting (N = 10^4) follow from the closed forms."""
    assert theory.expected_variance(1000, 10_000, 0) == pytest.approx(0.905, abs=5e-4)
    assert theory.median_variance(1000, 10_000, 0) == pytest.approx(0.819, abs=5e-4)
    assert np.sqrt(theory.mean_variance(1000, 10_000, 0)) == pytest.approx(0.31, abs=5e-3)
    assert theory.central_selection_factor(0.5) == pytest.approx(0.143, abs=5e-4)
