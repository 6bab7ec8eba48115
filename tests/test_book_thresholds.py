"""autophagy.book.thresholds: the threshold claims follow the estimates they are given."""

import pandas as pd

from autophagy.book.claims import FAILS, HOLDS, UNCLEAR
from autophagy.book.thresholds import threshold_claims
from autophagy.threshold import Threshold


def threshold(alpha_star, se, loops=500):
    sizes = sorted(alpha_star)
    table = pd.DataFrame(
        {"alpha_star": [alpha_star[n] for n in sizes], "se": [se] * len(sizes), "loops": [loops] * len(sizes)},
        index=pd.Index(sizes, name="samples"),
    )
    table["low"], table["high"] = table["alpha_star"] - 2 * se, table["alpha_star"] + 2 * se
    return Threshold(table, pd.DataFrame(), "var", 0.05, 50)


def claims_of(gaussian, symbols, diversity, se):
    return threshold_claims(
        threshold(gaussian, se),
        threshold(symbols, se),
        threshold(diversity, se),
        50,
        0.05,
        [0.01, 0.1, 1.0],
        {"gaussian": 500, "categorical": 50},
        show=False,
    )


def test_a_threshold_that_falls_by_many_standard_errors_falls():
    found = claims_of({5: 0.5, 200: 0.05}, {100: 0.6, 1000: 0.3}, {100: 0.1, 1000: 0.05}, 0.01)
    assert found.falls.verdict == HOLDS and found.tails.verdict == HOLDS
    assert [c.name for c in found.exact] == ["alpha_star_5", "alpha_star_200"]


def test_the_numbers_are_the_estimates():
    found = claims_of({5: 0.5, 200: 0.05}, {100: 0.6, 1000: 0.3}, {100: 0.1, 1000: 0.05}, 0.01)
    values = found.values
    assert values["mix_g_small"] == 0.5 and values["mix_g_large_n"] == 200 and values["mix_c_large"] == 0.3
    assert values["mix_g_small_low"] == 0.5 - 0.02 and values["mix_gs_small"] == 0.1
    assert values["mix_real_growth"] == 0.05 * 200 / (0.5 * 5) and values["mix_n_growth"] == 40
    assert values["mix_loops_c"] == 50 and values["mix_T"] == 50 and values["mix_tol"] == 5


def test_a_threshold_that_rises_does_not_fall():
    found = claims_of({5: 0.05, 200: 0.5}, {100: 0.1, 1000: 0.3}, {100: 0.6, 1000: 0.05}, 0.01)
    assert found.falls.verdict == FAILS and found.tails.verdict == FAILS


def test_estimates_within_their_noise_are_not_given_a_direction():
    found = claims_of({5: 0.2, 200: 0.19}, {100: 0.3, 1000: 0.3}, {100: 0.29, 1000: 0.2}, 0.05)
    assert found.falls.verdict == UNCLEAR and found.tails.verdict == UNCLEAR
