"""autophagy.book.imageloop: chapter 3's claims on the DDPM loops follow their records."""

import numpy as np
import pandas as pd

from autophagy.book.claims import FAILS, HOLDS, UNCLEAR
from autophagy.book.imageloop import ddpm_claims
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


def verdicts(found):
    """Every claim's verdict, by the name of its card."""
    every = [
        found.rises,
        *found.worse.values(),
        found.blurs,
        *found.anchors.values(),
        found.fresh_sure,
        found.control_near,
        found.beyond_control,
        found.fresh_near,
    ]
    return {c.name: c.verdict for c in every}


def test_a_drifting_replace_beside_anchored_loops_and_a_flat_control_holds_every_claim():
    drift = {"replace": 0.5, "fresh": 0.1, "accumulate": 0.05, "control": 0.01}
    found = ddpm_claims(loops(drift), confidences(drift), LAST, show=False)
    assert set(verdicts(found).values()) == {HOLDS}
    assert set(found.worse) == {"precision", "recall"} and set(found.anchors) == {"fresh", "accumulate"}


def test_the_numbers_are_the_records_means():
    drift = {"replace": 0.5, "fresh": 0.1, "accumulate": 0.05, "control": 0.01}
    modes = loops(drift)
    values = ddpm_claims(modes, confidences(drift), LAST, show=False).values
    assert values["ddpm_generations"] == LAST
    for mode in drift:
        assert np.isclose(values[f"fid_{mode}"], modes[mode].at(LAST)["fid"].mean())
    assert np.isclose(values["fid_gen1"], 15, rtol=0.02)  # 10 (1 + 0.5)
    assert np.isclose(values["ddpm_replace_ratio"], values["fid_replace"] / values["fid_gen1"])
    assert np.isclose(values["ddpm_control_ratio"], values["fid_control"] / modes["control"].at(1)["fid"].mean())
    assert values["precision_replace"] < values["precision_gen1"] and values["recall_replace"] < values["recall_gen1"]


def test_a_run_against_the_literature_fails_its_claims():
    drift = {"replace": 0.2, "fresh": 0.3, "accumulate": 0.3, "control": 0.2}
    found = ddpm_claims(loops(drift), confidences(drift), LAST, show=False)
    assert found.rises.verdict == HOLDS
    assert {c.verdict for c in found.anchors.values()} == {FAILS}
    assert found.fresh_near.verdict == FAILS and found.fresh_sure.verdict == FAILS
    assert found.control_near.verdict == FAILS  # 10 (1 + 0.2 g): 20 against 12
    assert found.beyond_control.verdict == UNCLEAR  # the same drift as replace's


def test_one_replicate_is_too_few_for_a_direction():
    drift = {"replace": 0.5, "fresh": 0.1, "accumulate": 0.05, "control": 0.01}
    one = {m: History(h.frame[h.frame.replicate == 0], h.config) for m, h in loops(drift).items()}
    found = verdicts(ddpm_claims(one, confidences(drift), LAST, show=False))
    per_seed = {"ddpm_conf_falls", "ddpm_fresh_conf"}  # one value per grid seed, not per replicate
    assert {v for name, v in found.items() if name not in per_seed} == {UNCLEAR}
    assert {found[name] for name in per_seed} == {HOLDS}
