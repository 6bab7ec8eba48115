"""Chapter 1's claims on the fresh-data threshold, checked on the grid's estimates.

The chapter measures the threshold alpha*(n) of two loops (:mod:`autophagy.threshold`);
:func:`threshold_claims` checks what they show (showing each card) and returns the claims with
the numbers the chapter quotes (:class:`ThresholdClaims`). The chapter picks the words for each
verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import threshold
from . import claims

SOURCE = "Alemohammad et al. (2024), Figs. 11-12; Bertrand et al. (2024)"


@dataclass(frozen=True)
class ThresholdClaims:
    """The threshold claims, and the numbers the chapter quotes beside them.

    ``exact`` holds one claim per Gaussian sample size (the measured alpha* is the exact one),
    ``falls`` that the Gaussian's alpha* falls from the smallest size to the largest, ``tails``
    that keeping the categorical loop's symbols needs more real data than keeping its
    Gini-Simpson diversity; ``values`` maps each quoted number to the name the chapter glues it under.
    """

    exact: list[claims.Claim]
    falls: claims.Claim
    tails: claims.Claim
    values: dict[str, float]


def _gap(a, b, at_a, at_b) -> claims.Estimate:
    """alpha*(a at at_a) - alpha*(b at at_b), with the standard error of a difference of independent estimates."""
    return claims.Estimate(
        a.at[at_a, "alpha_star"] - b.at[at_b, "alpha_star"],
        float(np.hypot(a.at[at_a, "se"], b.at[at_b, "se"])),
        int(min(a["loops"].min(), b["loops"].min())),
    )


def threshold_claims(
    gaussian: threshold.Threshold,
    symbols: threshold.Threshold,
    diversity: threshold.Threshold,
    generations: int,
    tolerance: float,
    alphas,
    loops: dict[str, int],
    show: bool = True,
) -> ThresholdClaims:
    """Check the chapter's threshold claims and return them with the numbers the chapter quotes.

    ``gaussian`` is the Gaussian loop's threshold on its variance, ``symbols`` and ``diversity``
    the categorical loop's on its surviving symbols and its Gini-Simpson index, all measured at
    generation ``generations`` with ``tolerance`` on the grid ``alphas``, from ``loops[name]``
    independent loops per grid point ("gaussian", "categorical").
    """
    gt, ct, cg = gaussian.table, symbols.table, diversity.table
    exact = [
        claims.check(
            f"alpha_star_{n}",
            f"Gaussian, n = {n}: the measured threshold alpha* is the exact one",
            SOURCE,
            claims.Estimate(row["alpha_star"], row["se"], int(row["loops"])),
            target=threshold.gaussian_threshold(n, generations, tolerance, alphas=alphas),
            show=show,
        )
        for n, row in gt.iterrows()
    ]
    small, large = gt.index.min(), gt.index.max()
    falls = claims.check(
        "alpha_star_falls",
        f"Gaussian: alpha* is smaller at n = {large} than at n = {small}",
        SOURCE,
        _gap(gt, gt, small, large),
        above=0.0,
        show=show,
    )
    n_cat = ct.index.min()
    tails = claims.check(
        "tails_need_more",
        f"categorical, n = {n_cat}: keeping the symbols needs more real data than keeping the Gini-Simpson diversity",
        "Shumailov et al. (2024)",
        _gap(ct, cg, n_cat, n_cat),
        above=0.0,
        show=show,
    )
    values: dict[str, float] = {
        "mix_T": generations,
        "mix_tol": round(100 * tolerance),
        "mix_loops_g": loops["gaussian"],
        "mix_loops_c": loops["categorical"],
        "mix_tolerance_se": claims.TOLERANCE,
    }
    for name, table in (("g", gt), ("c", ct)):
        for end, n in (("small", table.index.min()), ("large", table.index.max())):
            values[f"mix_{name}_{end}_n"] = int(n)
            for column, suffix in (("alpha_star", ""), ("low", "_low"), ("high", "_high")):
                values[f"mix_{name}_{end}{suffix}"] = table.at[n, column]
    values["mix_g_exact_large"] = threshold.gaussian_threshold(int(large), generations, tolerance)
    real_small, real_large = gt.at[small, "alpha_star"] * small, gt.at[large, "alpha_star"] * large
    values.update(
        mix_real_small=real_small,
        mix_real_large=real_large,
        mix_real_growth=real_large / real_small,
        mix_n_growth=int(large // small),
        mix_gs_small=cg.at[n_cat, "alpha_star"],
    )
    return ThresholdClaims(exact, falls, tails, values)
