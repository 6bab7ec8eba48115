"""Chapter 3's verdicts on the DDPM loops, from their records and the grid's confidences.

The chapter runs the MNIST DDPM three ways (``replace``, ``fresh``, ``accumulate``);
:func:`ddpm_verdicts` checks its claims (showing each card) and returns every value the prose
quotes, so the chapter only glues them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import claims

FIG3A = "Alemohammad et al. (2024); Xing et al. (2025), Fig. 3a"


def ddpm_verdicts(modes: dict, confidence: dict[str, dict[int, np.ndarray]], last: int, caveat: str,
                  show: bool = True) -> dict[str, Any]:
    """Check the DDPM loops' claims and return the values the chapter's prose glues (by name).

    ``modes`` maps replace, fresh and accumulate to their :class:`~autophagy.engine.history.History`;
    ``confidence[mode][generation]`` is the classifier's confidence in each grid seed's digit
    (replace and fresh); ``last`` is the last generation; ``caveat`` is appended to the verdict
    on the modes when the run does not show what the literature reports.
    """
    fid = {m: h.at(last)["fid"].mean() for m, h in modes.items()}
    fid1 = modes["replace"].at(1)["fid"].mean()
    out: dict[str, Any] = {"ddpm_generations": last, "fid_gen1": fid1}
    out.update({f"fid_{m}": v for m, v in fid.items()})
    out.update(fid_real=modes["replace"].at(0)["fid"].mean(), conf_gen1=modes["replace"].at(1)["confidence"].mean(),
               conf_real=modes["replace"].at(0)["confidence"].mean())
    # one value per replicate (a loop is one), or per grid seed
    fid_end = {m: h.at(last).sort_values("replicate")["fid"].to_numpy() for m, h in modes.items()}
    fid_start = modes["replace"].at(1).sort_values("replicate")["fid"].to_numpy()
    conf = confidence
    rises = claims.check("ddpm_fid_rises", f"replace: the FID at generation {last} is above generation 1's (per replicate)",
                         FIG3A, fid_end["replace"] - fid_start, above=0.0, show=show)
    blurs = claims.check("ddpm_conf_falls", f"replace: the classifier is less sure of each grid seed's digit at generation "
                         f"{last} than at generation 1 (one value per seed of the grid)", FIG3A,
                         conf["replace"][last] - conf["replace"][1], below=0.0, show=show)
    anchors = {m: claims.check(f"ddpm_{m}_fid", f"{m}: the FID at generation {last} is below replace's (per replicate)",
                               FIG3A if m == "fresh" else "Gerstgrasser et al. (2024)",
                               claims.difference(fid_end[m], fid_end["replace"]), below=0.0, show=show)
               for m in ("fresh", "accumulate")}
    fresh_sure = claims.check("ddpm_fresh_conf", f"fresh: the classifier is surer of each grid seed's digit at generation "
                              f"{last} than under replace (one value per seed)", FIG3A,
                              conf["fresh"][last] - conf["replace"][last], above=0.0, show=show)
    out["ddpm_drift_verdict"] = (
        "the replace loop's FID " + rises.word("rose above generation 1's", "did not rise above generation 1's",
                                               "moved from generation 1's by an amount one replicate cannot call a rise")
        + " and the classifier " + blurs.word("became less sure of its digits", "did not become less sure of its digits",
                                              "may have become less sure of its digits (this run cannot tell)"))
    held = {m: c.verdict for m, c in anchors.items()}
    both = {(claims.HOLDS, claims.HOLDS): "both fresh and accumulate end with a lower FID than replace",
            (claims.FAILS, claims.FAILS): "neither fresh nor accumulate ends with a lower FID than replace"}
    each = ("fresh ends at an FID " + anchors["fresh"].word("below", "not below", "one replicate cannot tell from")
            + " replace's, and accumulate at an FID " + anchors["accumulate"].word("below", "not below", "one replicate cannot tell from")
            + " replace's")
    confirmed = rises.verdict == claims.HOLDS and set(held.values()) == {claims.HOLDS}
    out["ddpm_mode_verdict"] = both.get(tuple(held.values()), each) + ("" if confirmed else caveat)
    # does fresh data hold the loop near generation 1, or only slow its drift?
    near = claims.check("ddpm_fresh_near", f"fresh: the FID at generation {last} stays within 1.5 times generation 1's "
                        "(per replicate)", FIG3A, fid_end["fresh"] / fid_start, below=1.5, show=show)
    out.update(ddpm_fresh_ratio=fid["fresh"] / fid1, ddpm_replace_ratio=fid["replace"] / fid1)
    out["ddpm_fresh_verdict"] = (
        near.word("the fresh loop's FID stays within 1.5 times generation 1's",
                  "the fresh loop drifts too, only more slowly",
                  "whether the fresh loop's FID stays within 1.5 times generation 1's, one replicate cannot tell")
        + f" (it ends {fid['fresh'] / fid1:.1f} times generation 1's; replace: {fid['replace'] / fid1:.1f} times), and "
        + "per grid seed the fresh loop's digits are " + fresh_sure.word(
            "more confidently classified than replace's", "not more confidently classified than replace's",
            "classified with a confidence this run cannot tell from replace's"))
    return out
