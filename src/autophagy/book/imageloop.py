"""Chapter 3's verdicts on the DDPM loops, from their records and the grid's confidences.

The chapter runs the MNIST DDPM three ways (``replace``, ``fresh``, ``accumulate``) beside the
real-only control (``control``: the same fine-tuning on fresh real images only);
:func:`ddpm_verdicts` checks its claims (showing each card) and returns every value the prose
quotes, so the chapter only glues them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import claims

FIG3A = "Alemohammad et al. (2024); Xing et al. (2025), Fig. 3a"
NEAR = 1.5  # a loop "stays near generation 1" when its FID ends within this factor of generation 1's


def ddpm_verdicts(
    modes: dict,
    confidence: dict[str, dict[int, np.ndarray]],
    last: int,
    caveat: str,
    evidence: str = claims.THIS_RUN,
    show: bool = True,
) -> dict[str, Any]:
    """Check the DDPM loops' claims and return the values the chapter's prose glues (by name).

    ``modes`` maps replace, fresh, accumulate and control to their
    :class:`~autophagy.runs.history.History`; ``confidence[mode][generation]`` is the
    classifier's confidence in each grid seed's digit (replace and fresh); ``last`` is the last
    generation; ``caveat`` is appended to the verdict on the modes when the run does not show
    what the literature reports; ``evidence`` names where the records come from (the cards say it).
    """
    fid = {m: h.at(last)["fid"].mean() for m, h in modes.items()}
    fid1 = modes["replace"].at(1)["fid"].mean()
    out: dict[str, Any] = {"ddpm_generations": last, "fid_gen1": fid1}
    out.update({f"fid_{m}": v for m, v in fid.items()})
    out.update(
        fid_real=modes["replace"].at(0)["fid"].mean(),
        conf_gen1=modes["replace"].at(1)["confidence"].mean(),
        conf_real=modes["replace"].at(0)["confidence"].mean(),
    )
    # one value per replicate (a loop is one), or per grid seed
    fid_end = {m: h.at(last).sort_values("replicate")["fid"].to_numpy() for m, h in modes.items()}
    fid_start = modes["replace"].at(1).sort_values("replicate")["fid"].to_numpy()
    conf = confidence

    def check(*args, **kw):
        return claims.check(*args, evidence=evidence, show=show, **kw)

    def change(mode, metric):
        h = modes[mode]
        return (
            h.at(last).sort_values("replicate")[metric].to_numpy() - h.at(1).sort_values("replicate")[metric].to_numpy()
        )

    rises = check(
        "ddpm_fid_rises",
        f"replace: the FID at generation {last} is above generation 1's (per replicate)",
        FIG3A,
        fid_end["replace"] - fid_start,
        above=0.0,
    )
    worse = {
        metric: check(
            f"ddpm_{metric}_falls",
            f"replace: {metric} at generation {last} is below generation 1's (per replicate)",
            FIG3A,
            change("replace", metric),
            below=0.0,
        )
        for metric in ("precision", "recall")
    }
    blurs = check(
        "ddpm_conf_falls",
        f"replace: the classifier is less sure of each grid seed's digit at generation "
        f"{last} than at generation 1 (one value per seed of the grid)",
        FIG3A,
        conf["replace"][last] - conf["replace"][1],
        below=0.0,
    )
    anchors = {
        m: check(
            f"ddpm_{m}_fid",
            f"{m}: the FID at generation {last} is below replace's (per replicate)",
            FIG3A if m == "fresh" else "Gerstgrasser et al. (2024)",
            claims.difference(fid_end[m], fid_end["replace"]),
            below=0.0,
        )
        for m in ("fresh", "accumulate")
    }
    fresh_sure = check(
        "ddpm_fresh_conf",
        f"fresh: the classifier is surer of each grid seed's digit at generation "
        f"{last} than under replace (one value per seed)",
        FIG3A,
        conf["fresh"][last] - conf["replace"][last],
        above=0.0,
    )
    out["ddpm_drift_verdict"] = (
        "the replace loop's FID "
        + rises.word(
            "rose above generation 1's",
            "did not rise above generation 1's",
            "moved from generation 1's by an amount the replicates cannot call a rise",
        )
        + ", "
        + _both(worse["precision"], worse["recall"])
        + " and the classifier "
        + blurs.word(
            "became less sure of its digits",
            "did not become less sure of its digits",
            "may have become less sure of its digits (its seeds cannot tell)",
        )
    )
    out.update(
        precision_gen1=modes["replace"].at(1)["precision"].mean(),
        recall_gen1=modes["replace"].at(1)["recall"].mean(),
        precision_replace=modes["replace"].at(last)["precision"].mean(),
        recall_replace=modes["replace"].at(last)["recall"].mean(),
    )
    # the control: the same fine-tuning on real images only, so that drift from fine-tuning is not read as autophagy
    fid_control = modes["control"].at(last).sort_values("replicate")["fid"].to_numpy()
    control_start = modes["control"].at(1).sort_values("replicate")["fid"].to_numpy()
    flat = check(
        "ddpm_control_near",
        f"control (real data only): the FID at generation {last} stays within {NEAR:g} times "
        "generation 1's (per replicate)",
        FIG3A,
        fid_control / control_start,
        below=NEAR,
    )
    beyond = check(
        "ddpm_replace_beyond_control",
        f"replace's rise in (log) FID from generation 1 to {last} exceeds the control's (per replicate)",
        FIG3A,
        claims.difference(np.log(fid_end["replace"] / fid_start), np.log(fid_control / control_start)),
        above=0.0,
    )
    out.update(fid_control=fid_control.mean(), ddpm_control_ratio=fid_control.mean() / control_start.mean())
    out["ddpm_control_verdict"] = (
        "the control "
        + flat.word(
            f"stays within {NEAR:g} times generation 1's FID",
            f"drifts beyond {NEAR:g} times generation 1's FID",
            f"cannot be told from {NEAR:g} times generation 1's FID",
        )
        + ", and replace's rise "
        + beyond.word(
            "exceeds the control's: the damage comes from the loop, not from fine-tuning",
            "does not exceed the control's: fine-tuning alone explains it",
            "cannot be told from the control's with these replicates",
        )
    )
    held = {m: c.verdict for m, c in anchors.items()}
    both = {
        (claims.HOLDS, claims.HOLDS): "both fresh and accumulate end with a lower FID than replace",
        (claims.FAILS, claims.FAILS): "neither fresh nor accumulate ends with a lower FID than replace",
    }
    each = (
        "fresh ends at an FID "
        + anchors["fresh"].word("below", "not below", "the replicates cannot tell from")
        + " replace's, and accumulate at an FID "
        + anchors["accumulate"].word("below", "not below", "the replicates cannot tell from")
        + " replace's"
    )
    confirmed = rises.verdict == claims.HOLDS and set(held.values()) == {claims.HOLDS}
    out["ddpm_mode_verdict"] = both.get(tuple(held.values()), each) + ("" if confirmed else caveat)
    # does fresh data hold the loop near generation 1, or only slow its drift?
    near = check(
        "ddpm_fresh_near",
        f"fresh: the FID at generation {last} stays within {NEAR:g} times generation 1's (per replicate)",
        FIG3A,
        fid_end["fresh"] / fid_start,
        below=NEAR,
    )
    out.update(ddpm_fresh_ratio=fid["fresh"] / fid1, ddpm_replace_ratio=fid["replace"] / fid1)
    out["ddpm_fresh_verdict"] = (
        near.word(
            "the fresh loop's FID stays within 1.5 times generation 1's",
            "the fresh loop drifts too, only more slowly",
            "whether the fresh loop's FID stays within 1.5 times generation 1's, the replicates cannot tell",
        )
        + f" (it ends {fid['fresh'] / fid1:.1f} times generation 1's; replace: {fid['replace'] / fid1:.1f} times), and "
        + "per grid seed the fresh loop's digits are "
        + fresh_sure.word(
            "more confidently classified than replace's",
            "not more confidently classified than replace's",
            "classified with a confidence this run cannot tell from replace's",
        )
    )
    return out


def _both(precision: claims.Claim, recall: claims.Claim) -> str:
    """How precision and recall moved, in words, from their two verdicts."""
    verdicts = (precision.verdict, recall.verdict)
    if verdicts == (claims.HOLDS, claims.HOLDS):
        return "its precision and recall fell"
    if claims.HOLDS in verdicts:
        fell, other = ("precision", recall) if verdicts[0] == claims.HOLDS else ("recall", precision)
        return f"its {fell} fell but its {'recall' if fell == 'precision' else 'precision'} " + other.word(
            "", "did not", "by an amount the replicates cannot confirm"
        )
    return "its precision and recall " + (
        "did not fall" if verdicts == (claims.FAILS, claims.FAILS) else "did not clearly fall"
    )
