"""The claim record's verdict logic (autophagy.book.claims), as properties over many inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from autophagy.book import claims
from autophagy.book.claims import FAILS, HOLDS, UNCLEAR, Claim, Estimate

values = st.floats(-1e3, 1e3, allow_nan=False)
ses = st.floats(1e-3, 1e2, allow_nan=False)


def claim(value, se, n=100, **kw):
    return Claim("c", "a statement", "a source", Estimate(value, se, n), **kw)


@given(values, ses, st.floats(0, 20))
def test_closed_form_holds_exactly_within_the_tolerance(target, se, distance):
    c = claim(target + distance * se, se, target=target)
    # the verdict flips at the claim's tolerance in standard errors, and only there
    if abs(distance - c.tolerance) > 1e-6:
        assert c.verdict == (HOLDS if distance < c.tolerance else FAILS)


def test_the_tolerance_is_tolerance_standard_errors_for_many_replicates_and_wider_for_few():
    assert abs(claim(0.0, 1.0, n=10**6, target=0.0).tolerance - claims.TOLERANCE) < 1e-3
    assert claim(0.0, 1.0, n=5, target=0.0).tolerance > 2 * claims.TOLERANCE


@given(st.integers(2, 200))
def test_the_interval_is_student_t_on_n_minus_one_degrees_of_freedom(n):
    lo, hi = Estimate(0.0, 1.0, n).interval
    assert math.isclose(hi, stats.t.ppf(0.975, n - 1), rel_tol=1e-9) and math.isclose(lo, -hi)


def test_a_large_effect_in_three_replicates_decides_and_a_small_one_does_not():
    assert Claim("c", "s", "src", claims.estimate([5.1, 4.8, 5.3]), above=0.0).verdict == HOLDS
    assert Claim("c", "s", "src", claims.estimate([0.4, -0.3, 0.5]), above=0.0).verdict == UNCLEAR


def test_t_intervals_of_three_replicates_cover_the_mean_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    loops = 4000
    covered = sum(lo < 0 < hi for lo, hi in (claims.estimate(rng.normal(0, 1, 3)).interval for _ in range(loops)))
    se = math.sqrt(0.95 * 0.05 / loops)
    assert abs(covered / loops - 0.95) < claims.TOLERANCE * se


def test_a_difference_takes_welch_degrees_of_freedom():
    a, b = [1.0, 2.0, 4.0, 3.5], [0.0, 0.1, -0.2]
    d = claims.difference(a, b)
    va, vb = np.var(a, ddof=1) / 4, np.var(b, ddof=1) / 3
    welch = (va + vb) ** 2 / (va**2 / 3 + vb**2 / 2)
    assert math.isclose(d.dof, welch, rel_tol=1e-9) and math.isclose(d.se, math.sqrt(va + vb), rel_tol=1e-9)


@given(values, ses, values)
def test_direction_verdict_follows_the_interval(value, se, threshold):
    below, above = claim(value, se, below=threshold), claim(value, se, above=threshold)
    lo, hi = below.estimate.interval
    assert (below.verdict == HOLDS) == (hi < threshold)
    assert (below.verdict == FAILS) == (lo > threshold)
    assert (above.verdict == HOLDS) == (lo > threshold)
    assert (above.verdict == FAILS) == (hi < threshold)
    # below and above never both hold
    assert not (below.verdict == HOLDS and above.verdict == HOLDS)


@given(values, ses, st.integers(0, claims.MIN_SAMPLES - 1))
def test_too_few_replicates_never_decide(value, se, n):
    assert claim(value, se, n=n, target=value).verdict == UNCLEAR
    assert claim(value, se, n=n, below=value + 100 * se).verdict == UNCLEAR


@given(values, ses)
def test_an_interval_wider_than_the_precision_is_unclear(value, se):
    assert claim(value, se, target=value, precision=se).verdict == UNCLEAR
    assert claim(value, se, target=value, precision=3 * se).verdict == HOLDS


def test_an_untestable_claim_is_unclear_and_says_why():
    c = claim(1.0, 0.1, target=1.0, untestable="most runs were cut off")
    assert c.verdict == UNCLEAR and "cut off" in c._repr_html_()


def test_a_claim_needs_exactly_one_kind_of_target():
    with pytest.raises(ValueError):
        claim(1.0, 0.1)
    with pytest.raises(ValueError):
        claim(1.0, 0.1, target=1.0, below=2.0)


@given(st.lists(st.floats(-100, 100), min_size=2, max_size=200))
def test_mean_estimate_is_the_mean_with_its_standard_error(xs):
    e = claims.estimate(xs)
    assert e.n == len(xs)
    assert math.isclose(e.value, np.mean(xs), rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(e.se, np.std(xs, ddof=1) / math.sqrt(len(xs)), rel_tol=1e-9, abs_tol=1e-12)


def test_bootstrap_standard_error_of_the_median_is_near_its_asymptotic_value():
    # for a standard normal, sd(median) ~ sqrt(pi / 2n)
    x = np.random.default_rng(1).standard_normal(4000)
    e = claims.estimate(x, "median")
    assert abs(e.se / math.sqrt(math.pi / (2 * len(x))) - 1) < 0.2


def test_nan_samples_are_dropped_and_an_empty_sample_is_unclear():
    assert claims.estimate([1.0, math.nan, 3.0]).n == 2
    empty = Claim("c", "s", "src", claims.estimate([]), target=0.0)
    assert empty.verdict == UNCLEAR and "no replicate" in empty.summary()


@settings(max_examples=50)
@given(st.sampled_from([0.5, 1.0, 2.0]), st.integers(0, 10_000))
def test_a_true_closed_form_holds_on_simulated_replicates(mu, seed):
    x = np.random.default_rng(seed).normal(mu, 1.0, 200)
    c = Claim("c", "s", "src", claims.estimate(x), target=mu)
    assert c.verdict == HOLDS  # fails with probability < 1e-5 per example


def test_a_card_names_its_evidence():
    recorded = claim(0.5, 0.01, below=1.0, evidence="recorded: 5 replicates")
    assert (
        "Recorded: 5 replicates:" in recorded._repr_html_() and "This run:" in claim(0.5, 0.01, below=1.0)._repr_html_()
    )
    assert recorded.record()["evidence"] == "recorded: 5 replicates"


def test_words_and_record_follow_the_verdict():
    c = claim(0.5, 0.01, below=1.0)
    assert c.word("shrinks", "does not shrink", "may shrink") == "shrinks"
    rec = c.record()
    assert rec["verdict"] == HOLDS and rec["expected"] == "below 1" and rec["low"] < 0.5 < rec["high"]
    assert claim(1.5, 0.01, below=1.0).word("shrinks", "does not shrink", "may shrink") == "does not shrink"


def test_collected_reads_the_records_of_a_notebook():
    rec = claim(0.5, 0.01, below=1.0).record()
    cells = [{"outputs": [{"metadata": {claims.METADATA_KEY: rec}}, {"metadata": {}}]}, {"cell_type": "markdown"}]
    assert claims.collected(cells) == [rec]
