"""autophagy.book.textloop: chapter 4's words follow the records they are given."""

import numpy as np
import pandas as pd

from autophagy.book.textloop import compared, fig1b_split, loop_verdicts, moved

REPLICATES, LAST = 8, 4
# per mode, how the measures move a generation: (perplexity factor, distinct-2 step, self-BLEU step)
DRIFT = {
    "replace": (1.3, -0.05, 0.04),
    "fresh": (1.1, -0.04, 0.02),
    "accumulate": (1.01, -0.002, 0.001),
    "control": (1.02, 0.0, 0.0),
}


def records(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for mode, (ppl, d2, bleu) in DRIFT.items():
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


def test_a_clear_collapse_and_a_closer_accumulate_are_told_as_such():
    saved = {(g, r): {"samples": texts(g)} for g in (1, LAST) for r in range(REPLICATES)}
    out = loop_verdicts(records(), saved, "Shumailov et al. (2024)", show=False)
    assert out["last_generation"] == LAST
    assert out["ppl_evidence"] == "" and out["d2_evidence"] == ""  # both confirmed: no qualifier
    assert out["repeat_word"] == "repeats itself more than generation 1"
    assert out["ppl_move_replace"] == "climbs" and out["d2_move_replace"] == "falls"
    assert out["fresh_lesson"].startswith("It avoids")
    assert out["accumulate_verdict"].startswith("far closer to generation 1")
    assert out["control_verdict"] == (
        "the control stays within 1.5 times generation 1's perplexity, and replace's rise "
        "exceeds the control's: the loss comes from the loop, not from fine-tuning"
    )
    assert 0 < out["control_share"] < 0.1  # log 1.02 against log 1.3 a generation


def test_a_drifting_control_is_told_as_fine_tuning():
    frame = records()
    frame.loc[frame["mode"] == "control", "perplexity_real"] = frame.loc[
        frame["mode"] == "replace", "perplexity_real"
    ].to_numpy()
    saved = {(g, r): {"samples": texts(g)} for g in (1, LAST) for r in range(REPLICATES)}
    out = loop_verdicts(frame, saved, "Shumailov et al. (2024)", show=False)
    assert out["control_verdict"].startswith("the control drifts beyond")
    assert out["control_verdict"].endswith("cannot be told from the control's with these replicates")


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


def test_moves_and_comparisons_in_words():
    assert moved(1.0, 1.01) == "barely moves" and moved(1.0, 2.0) == "rises" and moved(1.0, 0.5) == "falls"
    assert compared(1.0, 1.01) == "about the same as"
    assert compared(0.4, 1.0) == "far below" and compared(0.8, 1.0) == "below"
    assert compared(3.0, 1.0) == "far above" and compared(1.5, 1.0) == "above"
