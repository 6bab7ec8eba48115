"""autophagy.book.textloop: chapter 4's claims and numbers follow the records they are given."""

import numpy as np
import pandas as pd

from autophagy.book.claims import FAILS, HOLDS, UNCLEAR
from autophagy.book.textloop import fig1b_split, text_claims

REPLICATES, LAST = 8, 4
# per mode, how the measures move a generation: (perplexity factor, distinct-2 step, self-BLEU step)
DRIFT = {
    "replace": (1.3, -0.05, 0.04),
    "fresh": (1.1, -0.04, 0.02),
    "accumulate": (1.01, -0.002, 0.001),
    "control": (1.02, 0.0, 0.0),
}


def records(drift=DRIFT, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for mode, (ppl, d2, bleu) in drift.items():
        for g in range(LAST + 1):
            for r in range(REPLICATES):
                noise = 1 + 0.005 * rng.standard_normal()
                rows.append(
                    {
                        "mode": mode,
                        "generation": g,
                        "replicate": r,
                        "perplexity_real": 50 * ppl ** max(g - 1, 0) * noise,
                        "distinct_2": (0.9 + d2 * max(g - 1, 0)) * noise,
                        "semantic_diversity": (0.6 + d2 * max(g - 1, 0)) * noise,
                        "self_bleu": (0.2 + bleu * max(g - 1, 0)) * noise,
                    }
                )
    return pd.DataFrame(rows)


def texts(generation):
    """Texts that repeat themselves more at the last generation than at the first."""
    varied = "the quick brown fox jumps over the lazy dog near a river bank today"
    looped = "the cat sat on the mat the cat sat on the mat the cat sat"
    return [varied if generation == 1 else looped] * 6


SAVED = {(g, r): {"samples": texts(g)} for g in (1, LAST) for r in range(REPLICATES)}


def test_a_clear_collapse_beside_a_closer_accumulate_and_a_flat_control_holds_every_claim():
    found = text_claims(records(), SAVED, "Shumailov et al. (2024)", show=False)
    every = (found.rises, found.narrows, found.poorer, found.repeats, found.fresh_helps)
    every += (found.control_near, found.beyond_control, found.accumulate_closer)
    assert {c.verdict for c in every} == {HOLDS}
    assert 0 < found.values["control_share"] < 0.1  # log 1.02 against log 1.3 a generation


def test_the_numbers_are_the_records_means():
    frame = records()
    found = text_claims(frame, SAVED, "Shumailov et al. (2024)", show=False)
    values = found.values
    assert values["last_generation"] == LAST
    last = frame[(frame["mode"] == "replace") & (frame["generation"] == LAST)]
    assert np.isclose(values["ppl_last_replace"], last["perplexity_real"].mean())
    assert np.isclose(values["ppl_first"], 50, rtol=0.01) and np.isclose(values["d2_real"], 0.9, rtol=0.01)
    assert values["bleu_last_replace"] > values["bleu_first"]
    # fresh avoids 1 - log 1.1 / log 1.3 of replace's rise in log perplexity, 1 - 0.04 / 0.05 of its loss of distinct-2
    assert np.isclose(found.avoided["perplexity"], 1 - np.log(1.1) / np.log(1.3), atol=0.03)
    assert np.isclose(found.avoided["distinct-2"], 0.2, atol=0.05)
    # accumulate ends closest to generation 1 in every measure
    for gap in found.gaps.values():
        assert gap["accumulate"] < 0.5 * min(gap["replace"], gap["fresh"])


def test_a_replace_loop_that_improves_has_no_damage_to_avoid():
    drift = {**DRIFT, "replace": (0.8, 0.02, 0.0)}
    found = text_claims(records(drift), SAVED, "Shumailov et al. (2024)", show=False)
    assert found.rises.verdict == FAILS and found.narrows.verdict == FAILS
    assert np.isnan(found.avoided["perplexity"]) and np.isnan(found.avoided["distinct-2"])
    assert np.isnan(found.values["control_share"])


def test_a_drifting_control_fails_its_claim_and_leaves_replace_undecided_against_it():
    frame = records()
    frame.loc[frame["mode"] == "control", "perplexity_real"] = frame.loc[
        frame["mode"] == "replace", "perplexity_real"
    ].to_numpy()
    found = text_claims(frame, SAVED, "Shumailov et al. (2024)", show=False)
    assert found.control_near.verdict == FAILS
    assert found.beyond_control.verdict == UNCLEAR
    assert np.isclose(found.values["control_share"], 1.0)


def test_the_figure_1b_split_adds_up_per_replicate():
    rng = np.random.default_rng(3)
    saved = {
        (2, r): {
            "perplexity_gen1": list(np.exp(rng.normal(3, 1, 9))),
            "perplexity_self": list(np.exp(rng.normal(1, 1, 9))),
        }
        for r in range(4)
    }
    split = fig1b_split(saved, 2)
    np.testing.assert_allclose(split["entropy"] + split["divergence"], split["total"])
    np.testing.assert_allclose(split["total"], [np.median(np.log(saved[2, r]["perplexity_gen1"])) for r in range(4)])
