"""autophagy.book.thresholds: the threshold verdicts follow the estimates they are given."""

import pandas as pd

from autophagy.book.thresholds import threshold_verdicts
from autophagy.threshold import Threshold


def threshold(alpha_star, se, loops=500):
    sizes = sorted(alpha_star)
    table = pd.DataFrame(
        {"alpha_star": [alpha_star[n] for n in sizes], "se": [se] * len(sizes), "loops": [loops] * len(sizes)},
        index=pd.Index(sizes, name="samples"),
    )
    table["low"], table["high"] = table["alpha_star"] - 2 * se, table["alpha_star"] + 2 * se
    return Threshold(table, pd.DataFrame(), "var", 0.05, 50)


def test_a_threshold_that_falls_by_many_standard_errors_is_said_to_fall():
    out = threshold_verdicts(
        threshold({5: 0.5, 200: 0.05}, 0.01),
        threshold({100: 0.6, 1000: 0.3}, 0.01),
        threshold({100: 0.1, 1000: 0.05}, 0.01),
        50,
        0.05,
        [0.01, 0.1, 1.0],
        {"gaussian": 500, "categorical": 50},
        show=False,
    )
    assert out["mix_falls_word"] == "falls as n grows"
    assert out["mix_tails_word"] == "far more real data than"
    assert out["mix_g_small"] == 0.5 and out["mix_real_growth"] == 0.05 * 200 / (0.5 * 5)
    assert out["mix_loops_c"] == 50 and out["mix_held"].endswith("of 2")


def test_estimates_within_their_noise_are_not_given_a_direction():
    out = threshold_verdicts(
        threshold({5: 0.2, 200: 0.19}, 0.05),
        threshold({100: 0.3, 1000: 0.3}, 0.05),
        threshold({100: 0.29, 1000: 0.2}, 0.05),
        50,
        0.05,
        [0.01, 0.1, 1.0],
        {"gaussian": 500, "categorical": 50},
        show=False,
    )
    assert out["mix_falls_word"].startswith("may fall")
    assert out["mix_tails_word"] == "a real share this run cannot tell apart from"
