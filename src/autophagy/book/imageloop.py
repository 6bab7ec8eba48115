"""Chapter 3's claims on the DDPM loops, checked on their records and the grid's confidences.

The chapter runs the MNIST DDPM three ways (``replace``, ``fresh``, ``accumulate``) beside the
real-only control (``control``: the same fine-tuning on fresh real images only);
:func:`ddpm_claims` checks its claims (showing each card) and returns them with the numbers the
chapter quotes (:class:`DdpmClaims`). The chapter picks the words for each verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import claims

FIG3A = "Alemohammad et al. (2024); Xing et al. (2025), Fig. 3a"
NEAR = 1.5  # a loop "stays near generation 1" when its FID ends within this factor of generation 1's


@dataclass(frozen=True)
class DdpmClaims:
    """The DDPM loops' claims, and the numbers the chapter quotes beside them.

    ``worse`` holds the claims that replace's precision and recall fall (by metric),
    ``anchors`` that fresh's and accumulate's FID end below replace's (by mode); ``values``
    maps each quoted number to the name the chapter glues it under.
    """

    rises: claims.Claim  # replace: the FID rises from generation 1
    worse: dict[str, claims.Claim]
    blurs: claims.Claim  # replace: the classifier is less sure of each grid seed's digit
    anchors: dict[str, claims.Claim]
    fresh_sure: claims.Claim  # fresh: the classifier is surer of each grid seed's digit than under replace
    control_near: claims.Claim  # control: the FID stays within NEAR times generation 1's
    beyond_control: claims.Claim  # replace's rise exceeds the control's
    fresh_near: claims.Claim  # fresh: the FID stays within NEAR times generation 1's
    values: dict[str, float]


def ddpm_claims(
    modes: dict,
    confidence: dict[str, dict[int, np.ndarray]],
    last: int,
    evidence: str = claims.THIS_RUN,
    show: bool = True,
) -> DdpmClaims:
    """Check the DDPM loops' claims and return them with the numbers the chapter quotes.

    ``modes`` maps replace, fresh, accumulate and control to their
    :class:`~autophagy.runs.history.History`; ``confidence[mode][generation]`` is the
    classifier's confidence in each grid seed's digit (replace and fresh); ``last`` is the last
    generation; ``evidence`` names where the records come from (the cards say it).
    """

    def check(*args, **kw):
        return claims.check(*args, evidence=evidence, show=show, **kw)

    def at(mode, generation, metric="fid"):  # one value per replicate, replicates in order
        return modes[mode].at(generation).sort_values("replicate")[metric].to_numpy()

    fid_start = at("replace", 1)
    fid_end = {m: at(m, last) for m in modes}
    conf = confidence
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
            at("replace", last, metric) - at("replace", 1, metric),
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
    # the control: the same fine-tuning on real images only, so that drift from fine-tuning is not read as autophagy
    control_start = at("control", 1)
    control_near = check(
        "ddpm_control_near",
        f"control (real data only): the FID at generation {last} stays within {NEAR:g} times "
        "generation 1's (per replicate)",
        FIG3A,
        fid_end["control"] / control_start,
        below=NEAR,
    )
    beyond_control = check(
        "ddpm_replace_beyond_control",
        f"replace's rise in (log) FID from generation 1 to {last} exceeds the control's (per replicate)",
        FIG3A,
        claims.difference(np.log(fid_end["replace"] / fid_start), np.log(fid_end["control"] / control_start)),
        above=0.0,
    )
    # does fresh data hold the loop near generation 1, or only slow its drift?
    fresh_near = check(
        "ddpm_fresh_near",
        f"fresh: the FID at generation {last} stays within {NEAR:g} times generation 1's (per replicate)",
        FIG3A,
        fid_end["fresh"] / fid_start,
        below=NEAR,
    )
    fid = {m: end.mean() for m, end in fid_end.items()}
    replace = modes["replace"]
    values = {
        "ddpm_generations": last,
        "fid_real": replace.at(0)["fid"].mean(),
        "fid_gen1": fid_start.mean(),
        **{f"fid_{m}": v for m, v in fid.items()},
        "conf_real": replace.at(0)["confidence"].mean(),
        "conf_gen1": replace.at(1)["confidence"].mean(),
        "precision_gen1": replace.at(1)["precision"].mean(),
        "recall_gen1": replace.at(1)["recall"].mean(),
        "precision_replace": replace.at(last)["precision"].mean(),
        "recall_replace": replace.at(last)["recall"].mean(),
        "ddpm_control_ratio": fid["control"] / control_start.mean(),
        "ddpm_fresh_ratio": fid["fresh"] / fid_start.mean(),
        "ddpm_replace_ratio": fid["replace"] / fid_start.mean(),
    }
    return DdpmClaims(rises, worse, blurs, anchors, fresh_sure, control_near, beyond_control, fresh_near, values)
