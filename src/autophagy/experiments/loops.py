"""What every loop experiment shares: its parameters, the screening rules of the web modes,
and how many training sets it holds."""

from __future__ import annotations

from typing import Any

from ..engine import modes
from ..engine.loop import LoopSpec
from ..mitigations import filters
from ..params import Param, ParameterError, choice, integer, number

WEB_PARAMS = [
    number("web_start", 0.2, "web modes: synthetic share of generation 2's scrape", low=0, high=1),
    number("web_growth", 0.2, "web modes: growth of the synthetic share per generation", low=0, high=1),
    number("web_max", 0.9, "web modes: the synthetic share's ceiling", low=0, high=1),
]


def loop_params(generations: int, samples: int, replicates: int, mode: str = "replace") -> list[Param]:
    """The parameters every loop experiment shares, with their ranges."""
    return [
        integer("generations", generations, "number of generations after the truth", low=1, high=10**6),
        integer("samples", samples, "samples in a generation's training set (N)", low=2, high=10**8),
        integer("replicates", replicates, "independent repetitions of the whole loop", low=1, high=10**6),
        choice("mode", mode, "how the next training set is built", list(modes.MODES)),
        number("real_fraction", 0.1, "fresh mode: share of new real samples", low=0, high=1, low_open=True),
        number(
            "synthetic_ratio", 1.0, "augment mode: synthetic samples per real sample", low=0, high=100, low_open=True
        ),
        *WEB_PARAMS,
        number(
            "detector_tpr", 0.0, "web modes: a simulated detector drops this share of synthetic samples", low=0, high=1
        ),
        number(
            "detector_fpr",
            0.0,
            "web modes: ... and this share of real ones (false positives)",
            low=0,
            high=1,
            high_open=True,
        ),
        number(
            "provenance", 0.0, "web modes: share of synthetic samples labelled as such (and dropped)", low=0, high=1
        ),
    ]


SCREENS = ("detector_tpr", "detector_fpr", "provenance")
MIN_PASSING = 0.01  # the loop scrapes again until n samples pass: at most 1000 scrapes


def check_loop(params: dict[str, Any]) -> None:
    """Refuse screening outside the web modes, and a screen that would pass almost nothing."""
    asked = [k for k in SCREENS if params.get(k, 0) > 0]
    if not asked:
        return
    if not modes.get(params["mode"]).web:
        raise ParameterError(f"{asked[0]} screens a scraped pool: it needs a web mode: {', '.join(modes.WEB_MODES)}")
    share = params["web_max"]
    caught = 1 - (1 - params["provenance"]) * (1 - params["detector_tpr"])
    passing = (1 - share) * (1 - params["detector_fpr"]) + share * (1 - caught)
    if passing < MIN_PASSING:
        raise ParameterError(
            f"only {passing:.2%} of the scraped samples would pass the screening at the web's peak "
            f"(at least {MIN_PASSING:.0%} needed): lower web_max, detector_fpr or detector_tpr"
        )


def with_screening(spec: LoopSpec, params: dict[str, Any]) -> LoopSpec:
    """``spec`` with the parameters' screens (provenance, detector) added to its filter."""
    screens = filters.from_params(params)
    if screens is not None:
        spec.filter = filters.chain([f for f in (spec.filter, screens) if f is not None])
    return spec


def training_sets_held(params: dict[str, Any]) -> float:
    """How many generations' worth of samples the parameters' loop holds at once."""
    return modes.get(params["mode"]).sets_held(params["generations"], params.get("synthetic_ratio", 1.0))
