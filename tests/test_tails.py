"""Tails and scaling (Dohmatob et al. 2024): memorisers of Zipf tokens against their closed forms."""

import math

import numpy as np
import pytest
from scipy import special

from autophagy import run, theory
from autophagy.cli import main
from autophagy.experiments.tails import expected_error, loglog_slope, mean_slope
from autophagy.models.categorical import zipf
from autophagy.models.memoriser import tail_cut

TOLERANCE = 4.5  # standard errors


@pytest.fixture(scope="module")
def sweep():
    """Every source at T = 10, 100, ..., 10^6 (200 memorisers each, K = 2000, beta = 2, k = 10)."""
    return run(
        "tails",
        profile="smoke",
        seed=3,
        progress=False,
        smallest=10,
        largest=10**6,
        sizes=6,
        replicates=200,
        symbols=2000,
        cut_rank=10,
    )


def cells(history, source):
    """Mean, standard error and replicate count of the error at each T, and the T."""
    rows = history.frame[history.frame["source"] == source]
    stats = rows.groupby("samples")["error"].agg(["mean", "sem", "count"])
    return stats, stats.index.to_numpy()


@pytest.mark.parametrize("source, largest", [("clean", 10**6), ("mixed", 10**6), ("cut", 100)])
def test_mean_error_matches_the_exact_closed_form_within_its_standard_error(sweep, source, largest):
    """sum_i p_i (1 - q_i)^T, T by T. The cut source only up to T = 100: beyond, every memoriser
    sees the whole head and the error is the plateau in every replicate (next test)."""
    stats, sizes = cells(sweep, source)
    keep = sizes <= largest
    closed = expected_error(sweep.params, source, sizes[keep])
    assert (stats["count"][keep] == 200).all() and (stats["sem"][keep] > 0).all()
    z = np.abs(stats["mean"][keep].to_numpy() - closed) / stats["sem"][keep].to_numpy()
    assert (z <= TOLERANCE).all(), dict(zip(sizes[keep], z))


def test_tail_cut_error_stops_at_the_mass_past_the_cut(sweep):
    """From T = 10^4 on, every memoriser trained on the cut text knows the head and nothing past
    rank k: its error is sum_{i>k} p_i, and ten or a hundred times more tokens do not lower it."""
    params = sweep.params
    plateau = theory.tail_plateau(zipf(params["symbols"], params["beta"]), params["cut_rank"])
    late = sweep.frame[(sweep.frame["source"] == "cut") & (sweep.frame["samples"] >= 10**4)]
    assert late["samples"].nunique() == 3
    np.testing.assert_allclose(late["error"], plateau, rtol=1e-12)
    clean = cells(sweep, "clean")[0]["mean"]
    assert clean.loc[10**6] < plateau / 10  # clean data keeps learning well past it


def test_mixing_a_small_clean_share_restores_the_fall_over_a_decade(sweep):
    """From T = 10^5 to 10^6 the mixed source's error falls by more than half the clean law's
    decade, 10^((1 - 1/beta)/2), at 4.5 standard errors; the cut source's does not fall that much."""
    half_decade = math.log(10) * theory.clean_scaling_exponent(sweep.params["beta"]) / 2
    for source, falls in (("mixed", True), ("cut", False)):
        stats = cells(sweep, source)[0].loc[[10**5, 10**6]]
        drop = math.log(stats["mean"].iloc[0] / stats["mean"].iloc[1])
        se = math.hypot(*(stats["sem"] / stats["mean"]))  # independent runs: each draws its own stream
        if falls:
            assert drop - TOLERANCE * se > half_decade, source
        else:
            assert drop + TOLERANCE * se < half_decade, source


def test_clean_slope_of_the_means_matches_the_closed_form_slope(sweep):
    """The least-squares log-log slope of the clean means over T = 10^4..10^6 against the closed
    form's over the same sizes, within 4.5 delta-method standard errors."""
    slope, se, n = mean_slope(sweep, "clean", 10**4)
    sizes = np.array([10**4, 10**5, 10**6])
    closed = loglog_slope(sizes, expected_error(sweep.params, "clean", sizes))
    assert n == 200 and se > 0
    assert abs(slope - closed) <= TOLERANCE * se, (slope, closed, se)


@pytest.mark.parametrize("beta", [1.5, 2.0, 3.0])
def test_clean_closed_form_falls_as_t_to_the_minus_one_minus_one_over_beta(beta):
    """Over T = 10^3..10^4 on K = 10^6 tokens the exact error's log-log slope is within 0.01 of
    -(1 - 1/beta) (Hutter 2021). (A finite vocabulary bends it at larger T, the sooner the nearer
    beta is to 1: the mass past K is about K^(1 - beta) / ((beta - 1) zeta(beta)).)"""
    p = zipf(10**6, beta)
    sizes = np.array([1e3, 1e4])
    slope = loglog_slope(sizes, theory.memoriser_error(sizes, p, p))
    assert abs(slope + theory.clean_scaling_exponent(beta)) < 0.01


@pytest.mark.parametrize("beta", [1.5, 2.0, 3.0])
def test_plateau_approximation_errs_by_less_than_beta_minus_one_over_k(beta):
    """k^-(beta-1) / ((beta-1) zeta(beta)) against the exact tail sum_{i>k} i^-beta / zeta(beta)
    (a Hurwitz zeta): Euler-Maclaurin puts the relative error near (beta - 1) / (2k)."""
    for k in (10, 100, 1000):
        exact = special.zeta(beta, k + 1) / special.zeta(beta)
        assert abs(theory.tail_plateau_approx(k, beta) / exact - 1) < (beta - 1) / k


def test_exact_error_of_a_cut_source_is_the_plateau_plus_the_unseen_head():
    """The closed form splits as sum_{i>k} p_i (never seen) plus sum_{i<=k} p_i (1 - q_i)^T, and
    stays finite and exact where (1 - q)^T underflows (log1p)."""
    p = zipf(500, 2.0)
    q = tail_cut(p, 20)
    sizes = np.array([1, 10, 10**3, 10**9])
    head = np.array([np.sum(p[:20] * (1 - q[:20]) ** t) for t in sizes])
    expected = theory.tail_plateau(p, 20) + head
    np.testing.assert_allclose(theory.memoriser_error(sizes, p, q), expected, rtol=1e-12)
    assert theory.memoriser_error(10**9, p, q) == pytest.approx(theory.tail_plateau(p, 20), rel=1e-15)


BAD = [
    ("tails", "beta=1", "beta"),
    ("tails", "beta=0.5", "beta"),
    ("tails", "cut_rank=2000", "cut_rank"),
    ("tails", "cut_rank=5000", "cut_rank"),
    ("tails", "clean_share=1", "clean_share"),
    ("tails", "clean_share=-0.01", "clean_share"),
    ("tails", "smallest=100000", "smallest"),
    ("tails", "sizes=1", "sizes"),
    ("memoriser", "source=web", "source"),
    ("memoriser", "beta=1", "beta"),
    ("memoriser", "cut_rank=2000", "cut_rank"),
]


@pytest.mark.parametrize("experiment, setting, words", BAD, ids=[f"{e}-{s}" for e, s, _ in BAD])
def test_bad_input_exits_2_with_one_line_naming_the_parameter_and_writes_nothing(
    tmp_path, capsys, experiment, setting, words
):
    target = tmp_path / "out"
    code = main(["run", experiment, "--out", str(target), "--profile", "smoke", "--quiet", "--set", setting])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("autophagy: error:") and words in lines[0]
    assert not target.exists()


def test_a_smoke_run_from_the_command_line_writes_its_record_and_figure(tmp_path, capsys):
    import pandas as pd

    assert main(["run", "tails", "--out", str(tmp_path / "r"), "--profile", "smoke", "--quiet"]) == 0
    frame = pd.read_parquet(tmp_path / "r" / "metrics.parquet")
    assert list(frame.columns) == ["source", "samples", "generation", "replicate", "error", "known"]
    assert set(frame["source"]) == {"clean", "cut", "mixed"} and (frame["generation"] == 1).all()
    assert (tmp_path / "r" / "figures" / "scaling.png").read_bytes().startswith(b"\x89PNG")
