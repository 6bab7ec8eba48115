"""autophagy.book.imageloop: chapter 3's verdicts on the DDPM loops follow their records."""

import numpy as np
import pandas as pd

from autophagy.book.imageloop import ddpm_verdicts
from autophagy.runs.history import History

LAST, REPLICATES, SEEDS = 5, 8, 30


def loops(drift, seed=0):
    """Histories whose FID grows by ``drift[mode]`` of generation 1's a generation (noise 3%)."""
    rng = np.random.default_rng(seed)
    out = {}
    for mode, d in drift.items():
        rows = [
            {
                "generation": g,
                "replicate": r,
                "fid": 10 * (1 + d * g) + rng.normal(0, 0.3),
                "confidence": 0.9 - 0.01 * d * g,
                "precision": 0.8 - 0.05 * d * g + rng.normal(0, 0.01),
                "recall": 0.7 - 0.05 * d * g + rng.normal(0, 0.01),
            }
            for g in range(LAST + 1)
            for r in range(REPLICATES)
        ]
        out[mode] = History(pd.DataFrame(rows), {"params": {}})
    return out


def confidences(drift, seed=0):
    rng = np.random.default_rng(seed)
    return {
        m: {g: 0.9 - 0.02 * drift[m] * g + rng.normal(0, 0.01, SEEDS) for g in range(LAST + 1)}
        for m in ("replace", "fresh")
    }


def test_fresh_and_accumulate_below_a_drifting_replace_are_told_without_caveat():
    drift = {"replace": 0.5, "fresh": 0.1, "accumulate": 0.05, "control": 0.01}
    out = ddpm_verdicts(loops(drift), confidences(drift), LAST, " (CAVEAT)", show=False)
    assert out["ddpm_mode_verdict"] == "both fresh and accumulate end with a lower FID than replace"
    assert out["ddpm_drift_verdict"].startswith(
        "the replace loop's FID rose above generation 1's, its precision and recall fell"
    )
    assert out["ddpm_control_verdict"] == (
        "the control stays within 1.5 times generation 1's FID, and replace's rise "
        "exceeds the control's: the damage comes from the loop, not from fine-tuning"
    )
    assert out["ddpm_fresh_verdict"].startswith("the fresh loop's FID stays within 1.5 times")
    assert np.isclose(out["ddpm_replace_ratio"], out["fid_replace"] / out["fid_gen1"])


def test_a_run_against_the_literature_carries_the_caveat():
    drift = {"replace": 0.2, "fresh": 0.3, "accumulate": 0.3, "control": 0.2}
    out = ddpm_verdicts(loops(drift), confidences(drift), LAST, " (CAVEAT)", show=False)
    assert out["ddpm_mode_verdict"] == "neither fresh nor accumulate ends with a lower FID than replace (CAVEAT)"
    assert out["ddpm_fresh_verdict"].startswith("the fresh loop drifts too")
    assert out["ddpm_control_verdict"].startswith("the control drifts beyond 1.5 times")  # 10(1 + 0.2g): 20 against 12
    assert out["ddpm_control_verdict"].endswith("cannot be told from the control's with these replicates")


def test_one_replicate_is_too_few_for_a_direction():
    drift = {"replace": 0.5, "fresh": 0.1, "accumulate": 0.05, "control": 0.01}
    one = {m: History(h.frame[h.frame.replicate == 0], h.config) for m, h in loops(drift).items()}
    out = ddpm_verdicts(one, confidences(drift), LAST, " (CAVEAT)", show=False)
    assert "the replicates cannot tell" in out["ddpm_mode_verdict"] and out["ddpm_mode_verdict"].endswith("(CAVEAT)")
