"""Toy models beyond the Gaussian: closed forms of theory.py against simulation, and invariants.

Tolerances are 4 Monte-Carlo standard errors of the simulated mean (a false alarm about
once in 16 000 checks), never a slack copied from an earlier run.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

import autophagy
from autophagy import theory
from autophagy.engine import trainsets
from autophagy.engine.loop import LoopSettings, _Loop, run_loop
from autophagy.engine.modes import MODES
from autophagy.engine.trainsets import OriginCounts
from autophagy.experiments import resolve_config
from autophagy.metrics.distribution import w2_gaussian, w2_mixture
from autophagy.models.categorical import Categorical, Counts, zipf
from autophagy.params import ParameterError

TOYS = {
    "categorical": {"symbols": 30, "tail_rank": 5},
    "kde": {},
    "regression": {"features": 3, "samples": 20},
    "logistic": {"samples": 300},
    "gmm": {"samples": 200},
}


def assert_mean_close(values, expected, label=""):
    """|mean(values) - expected| < 4 standard errors of the mean."""
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert abs(values.mean() - expected) < 4 * se, (
        f"{label}: mean {values.mean():.5g}, theory {expected:.5g}, se {se:.3g}"
    )


def run(name, **params):
    return autophagy.run(name, profile="smoke", progress=False, **params)


# -- categorical ---------------------------------------------------------------------------


def test_categorical_gini_simpson_decays_as_one_minus_one_over_n_to_the_t():
    n, p = 40, zipf(20, 1.0)
    h = run("categorical", symbols=20, tail_rank=5, samples=n, replicates=4000, generations=25)
    for t in (1, 8, 25):
        expected = theory.expected_gini_simpson(t, n, theory.gini_simpson(p))
        assert_mean_close(h.at(t)["gini_simpson"], expected, f"t={t}")


def test_categorical_first_generation_keeps_each_symbol_with_probability_one_minus_q_to_the_n():
    n, p = 100, zipf(300, 1.1)
    h = run("categorical", symbols=300, zipf=1.1, tail_rank=10, samples=n, replicates=4000, generations=1)
    assert_mean_close(h.at(1)["surviving"], theory.survival_probability(p, n).sum(), "surviving")


def test_categorical_time_to_one_symbol_matches_the_exact_wright_fisher_chain():
    n, p0 = 60, 0.3
    states = np.arange(n + 1)
    move = binom.pmf(states[None, :], n, states[:, None] / n)[1:n, 1:n]
    exact = np.linalg.solve(np.eye(n - 1) - move, np.ones(n - 1))[round(p0 * n) - 1]
    model, rng = Categorical(3000, [p0, 1 - p0]), np.random.default_rng(1)
    time = np.full(3000, -1)
    for t in range(1, 5000):
        model.fit(model.sample(n, rng))
        time[(time < 0) & (model.surviving() == 1)] = t
        if (time > 0).all():
            break
    assert (time > 0).all()
    assert_mean_close(time, exact, "time to one symbol")


def test_time_to_one_symbol_formula_is_the_diffusion_limit_of_the_exact_chain():
    def exact(n):
        states = np.arange(n + 1)
        move = binom.pmf(states[None, :], n, states[:, None] / n)[1:n, 1:n]
        return np.linalg.solve(np.eye(n - 1) - move, np.ones(n - 1))[n // 2 - 1]

    errors = [abs(theory.time_to_one_symbol([0.5, 0.5], n) / exact(n) - 1) for n in (50, 200)]
    assert errors[1] < errors[0] / 2  # relative error shrinks like 1/N


def test_vanished_symbol_never_returns_in_replace_mode():
    seen = []

    def metrics(model, step):
        seen.append(model.probabilities() > 0)
        return {"surviving": model.surviving()}

    p = zipf(50, 1.0)
    spec = autophagy.engine.loop.LoopSpec(
        make_model=lambda: Categorical(300, p),
        real=Categorical(300, p).sample,
        metrics=metrics,
        truth=Categorical(300, p),
    )
    run_loop(spec, LoopSettings(generations=40, samples=30, replicates=300), progress=False)
    alive = np.array(seen)
    assert alive[-1].sum() < alive[1].sum()  # some symbols did vanish
    assert not (alive[2:] & ~alive[1:-1]).any()


def test_counts_subsample_is_a_multivariate_hypergeometric_draw():
    rng = np.random.default_rng(3)
    pool_counts = np.tile([50, 0, 30, 15, 5], (20_000, 1))
    ids = np.broadcast_to(np.arange(5, dtype=np.int32), pool_counts.shape)
    origin = OriginCounts(np.array([0, 1]), np.array([50, 50]))
    drawn, drawn_origin = Counts(pool_counts, ids, 5).subsample(origin, 40, rng)
    assert (drawn.counts.sum(axis=1) == 40).all() and (drawn.counts <= pool_counts).all()
    for j in range(5):
        if pool_counts[0, j]:
            assert_mean_close(drawn.counts[:, j], 40 * pool_counts[0, j] / 100, f"symbol {j}")
    assert drawn_origin.counts.shape == (2, 20_000) and (drawn_origin.counts.sum(axis=0) == 40).all()
    assert_mean_close(trainsets.real_share(drawn_origin), 0.5, "real share")


def test_categorical_checkpoint_restores_the_same_future():
    spec = autophagy.experiments.get("categorical").build(
        resolve_config("categorical", "smoke", mode="accumulate-subsample")[1]["params"]
    )
    settings = LoopSettings(generations=8, samples=100, replicates=200, mode="accumulate-subsample", seed=5)
    first = _Loop(spec, settings)
    for g in range(1, 5):
        first.fit_generation(g)
    second = _Loop(spec, settings)
    second.restore(first.state())
    first.fit_generation(5)
    second.fit_generation(5)
    one, two = first.state(), second.state()
    assert one.keys() == two.keys() and all(np.array_equal(one[k], two[k]) for k in one)


# -- a rare class under neutral drift (issue: who disappears first) ---------------------------


def test_rare_class_label_counts_are_gone_when_the_exact_chain_says():
    n, count, reps = 100, 5, 4000
    model, rng = Categorical(reps, [count / n, 1 - count / n]), np.random.default_rng(3)
    gone_at = {5: None, 20: None, 80: None}
    for t in range(1, 81):
        model.fit(model.sample(n, rng))
        if t in gone_at:
            gone_at[t] = (model.probabilities()[:, 0] == 0).astype(float)
    exact = theory.rare_class_gone_by(80, n, count)
    for t, gone in gone_at.items():
        assert_mean_close(gone, exact[t], f"gone by {t}")


def test_a_rare_class_is_lost_with_probability_one_minus_its_share():
    gone = theory.rare_class_gone_by(4000, 50, 2)
    assert gone[-1] == pytest.approx(theory.rare_class_loss_probability(2 / 50), abs=1e-9)
    assert (np.diff(gone) >= 0).all()


def test_kimura_ohtas_loss_time_approaches_the_exact_chains_as_n_grows():
    def exact_mean_time(n: int, count: int) -> float:
        gone = theory.rare_class_gone_by(60 * n, n, count)
        return float(np.sum(gone[-1] - gone[:-1]) / gone[-1])  # sum over g of P(T > g | loss)

    gaps = [abs(exact_mean_time(n, n // 50) / theory.rare_class_loss_time(n, 0.02) - 1) for n in (100, 400)]
    assert gaps[1] < gaps[0] < 0.1


# -- regression ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode, curve", [("replace", theory.regression_error_replace), ("accumulate", theory.regression_error_accumulate)]
)
def test_regression_test_error_matches_gerstgrasser_closed_form(mode, curve):
    d, rows, noise = 4, 16, 0.7
    h = run("regression", mode=mode, features=d, samples=rows, noise=noise, replicates=6000, generations=12)
    for t in (1, 4, 12):
        assert_mean_close(h.at(t)["test_error"], float(curve(t, d, rows, noise)), f"{mode} t={t}")


def test_regression_accumulate_error_is_bounded_by_pi_squared_over_six_times_one_generation():
    t = np.arange(1, 10_000)
    bound = np.pi**2 / 6 * theory.regression_error_one(10, 100, 1.0)
    assert (theory.regression_error_accumulate(t, 10, 100, 1.0) < bound).all()


# -- kernel density estimate ---------------------------------------------------------------


def test_kde_training_variance_inflates_towards_n_minus_one_h_squared():
    n, h = 20, 0.5
    run_ = run("kde", samples=n, bandwidth=h, replicates=6000, generations=40)
    for t in (1, 10, 40):
        assert_mean_close(run_.at(t)["data_var"], float(theory.kde_expected_data_variance(t, n, h)), f"t={t}")
    assert theory.kde_expected_data_variance(10_000, n, h) == pytest.approx((n - 1) * h**2)


# -- Gaussian mixture ----------------------------------------------------------------------


def test_mixture_w2_of_single_gaussians_is_the_closed_form():
    for mu, sigma in [(0.3, 1.0), (0.0, 0.5), (-1.0, 2.0)]:
        assert w2_mixture([1], [mu], [sigma], [1], [0], [1]) == pytest.approx(float(w2_gaussian(mu, sigma)), abs=2e-3)


def test_gmm_first_generation_recovers_the_truth_within_sampling_error():
    h = run("gmm", samples=2000, replicates=6, generations=1)
    first = h.at(1)
    # sd of a fitted weight ~ sqrt(w (1 - w) / N); of a fitted std ~ sqrt(1 / (2 N w))
    assert ((first["weight_1"] - 0.5).abs() < 4 * np.sqrt(0.25 / 2000)).all()
    assert ((first["std_1"] - 1).abs() < 4 * np.sqrt(1 / (2 * 1000))).all()


# -- logistic regression (Dey & Donoho 2024) -----------------------------------------------
# Their closed forms are first order in 1/N: at N = 4 x 569 rows and k = 4 coefficients the
# next order is about 1% of the error, below the 4 standard errors of these runs.


@pytest.mark.parametrize(
    "mode, curve", [("replace", theory.logistic_error_replace), ("accumulate", theory.logistic_error_accumulate)]
)
def test_logistic_fisher_error_follows_dey_and_donoho_first_order_closed_form(mode, curve):
    h = run("logistic", mode=mode, features=3, samples=4 * 569, replicates=4000, generations=6)
    for t in (1, 3, 6):
        assert_mean_close(h.at(t)["fisher_error"], float(curve(t, 4)), f"{mode} t={t}")


def test_logistic_accumulate_error_stays_below_pi_squared_over_six_coefficients():
    t = np.arange(1, 2001)
    assert (theory.logistic_error_accumulate(t, 4) < 4 * np.pi**2 / 6).all()
    assert theory.logistic_error_accumulate(2000, 4) > 4 * (np.pi**2 / 6 - 1e-3)


def test_logistic_fit_is_the_same_on_labels_counted_once_or_twice():
    from autophagy.experiments.logistic import truth
    from autophagy.models.logistic import LogisticRegression

    design, _, theta = truth(2)
    model = LogisticRegression(5, theta, design)
    data = model.sample(300, np.random.default_rng(0))
    model.fit(data)
    once = model.theta.copy()
    model.fit(np.concatenate([data, data], axis=1))  # the likelihood doubles: the same maximum
    np.testing.assert_allclose(model.theta, once, rtol=1e-6)  # but for the ridge's share (1e-6 / curvature)


def test_logistic_fit_finds_the_zero_of_the_score():
    from autophagy.experiments.logistic import truth
    from autophagy.models.logistic import LogisticRegression, sigmoid

    design, _, theta = truth(3)
    model = LogisticRegression(4, theta, design)
    data = model.sample(800, np.random.default_rng(1))
    model.fit(data)
    x = design[data[..., 0].astype(int)]
    score = np.einsum("rnk,rn->rk", x, data[..., 1] - sigmoid(np.einsum("rk,rnk->rn", model.theta, x)))
    assert np.abs(score).max() < 1e-6 * 800


# -- strong model collapse (Dohmatob et al. 2025) --------------------------------------------


def test_mixed_least_squares_error_matches_the_strong_collapse_closed_form():
    from autophagy.models.mixed_regression import mixed_fit_errors

    frame = mixed_fit_errors(
        [200, 1600], [0.0, 0.05, 0.3], features=6, noise=0.7, shift_norm=3.0, replicates=3000, seed=4
    )
    for (n, share), cell in frame.groupby(["n", "share"]):
        expected = theory.strong_collapse_error(n, cell["synthetic_rows"].iloc[0] / n, 6, 0.7, 3.0)
        assert_mean_close(cell["test_error"], float(expected), f"n={n} s={share}")


def test_all_synthetic_labels_fit_the_wrong_model_exactly_as_least_squares_fits_the_truth():
    from autophagy.models.mixed_regression import mixed_fit_errors

    frame = mixed_fit_errors([40, 300], [1.0], features=5, noise=1.0, shift_norm=2.0, replicates=4000, seed=2)
    for n, cell in frame.groupby("n"):  # no mixing term: the shift plus least squares' exact noise term
        assert_mean_close(cell["test_error"], 4.0 + 5 / (n - 6), f"n={n}")


def test_strong_collapse_plateau_is_reached_and_not_undercut_by_more_data():
    n = np.array([10**3, 10**5, 10**7])
    errors = theory.strong_collapse_error(n, 0.01, 10, 1.0, 5.0)
    assert (np.diff(errors) < 0).all() and (errors > theory.strong_collapse_plateau(0.01, 5.0)).all()
    assert errors[-1] / theory.strong_collapse_plateau(0.01, 5.0) < 1.001


@pytest.mark.parametrize("sizes, shares, words", [([8, 100], [0.1], "features"), ([100], [1.5], "shares")])
def test_bad_strong_collapse_input_raises_one_line_parameter_error(sizes, shares, words):
    from autophagy.models.mixed_regression import mixed_fit_errors

    with pytest.raises(ParameterError, match=words) as err:
        mixed_fit_errors(sizes, shares)
    assert "\n" not in str(err.value)


# -- every model, every mode ---------------------------------------------------------------


@pytest.mark.parametrize("name", TOYS)
@pytest.mark.parametrize("mode", list(MODES))
def test_every_toy_runs_in_every_mode_and_accumulate_pool_grows_by_one_generation(name, mode):
    params = TOYS[name]
    replicates = 2 if name == "gmm" else 50
    h = run(name, mode=mode, generations=4, replicates=replicates, **params)
    n = h.params["samples"]
    sizes = h.frame.groupby("generation")["train_size"].unique()
    assert list(h.generations) == [0, 1, 2, 3, 4]
    if mode == "accumulate":
        assert all(list(sizes[t]) == [t * n] for t in range(1, 5))
    if mode in ("replace", "fresh", "accumulate-subsample"):
        assert all(list(sizes[t]) == [n] for t in range(1, 5))
    assert np.isfinite(h.frame[h.metrics].to_numpy()).all()


def test_accumulate_subsample_real_share_is_one_over_t_on_average():
    h = run("categorical", mode="accumulate-subsample", replicates=2000, generations=5, samples=60)
    for t in (2, 5):
        assert_mean_close(h.at(t)["real_share"], 1 / t, f"t={t}")


@pytest.mark.parametrize(
    "name, params, words",
    [
        ("categorical", {"symbols": 10, "tail_rank": 10}, "tail_rank"),
        ("regression", {"features": 10, "samples": 11}, "samples"),
        ("logistic", {"features": 5}, "features"),
        ("kde", {"bandwidth": 0}, "bandwidth"),
        ("gmm", {"components": 0}, "components"),
    ],
)
def test_bad_toy_parameters_raise_one_line_parameter_error(name, params, words):
    with pytest.raises(ParameterError, match=words) as err:
        resolve_config(name, "smoke", **params)
    assert "\n" not in str(err.value)
