"""The sizes a chapter runs at beyond its experiments' profiles, by section and profile.

An experiment's own profile (``autophagy.experiments.get(name).profiles``) sets the sizes of a
plain run; a chapter section that needs other sizes (more replicates for a theory check, a
shorter loop for a comparison of modes) asks :func:`sizes` by name, so no chapter keeps a
table of its own. The chapters' verdicts were checked at these sizes.
"""

from __future__ import annotations

from typing import Any

from ..profiles import PROFILES, check_profile

SIZES: dict[str, dict[str, dict[str, Any]]] = {
    # chapter 1: the loop written by hand (a small N, so the decay shows within the run)
    "statistical-collapse/by-hand": {
        "smoke": {"samples": 100, "generations": 100, "replicates": 300},
        "default": {"samples": 100, "generations": 200, "replicates": 1000},
        "full": {"samples": 100, "generations": 200, "replicates": 1000},
    },
    # chapter 1: the closed forms at N = 10^4 and N = 100 (the replicates the theory checks need)
    "statistical-collapse/replicates": {
        "smoke": {"replicates": 300},
        "default": {"replicates": 1000},
        "full": {"replicates": 1000},
    },
    "statistical-collapse/small-sample": {
        "smoke": {"generations": 400},
        "default": {"generations": 2000},
        "full": {"generations": 2000},
    },
    "statistical-collapse/modes": {
        "smoke": {"generations": 60, "replicates": 150},
        "default": {"generations": 300, "replicates": 500},
        "full": {"generations": 1000, "replicates": 500},
    },
    # chapter 1: independent loops per grid point of the fresh-data threshold
    "statistical-collapse/threshold": {
        "smoke": {"gaussian": 300, "categorical": 20},
        "default": {"gaussian": 2000, "categorical": 100},
        "full": {"gaussian": 10_000, "categorical": 500},
    },
    # chapter 2: generations of each model's loop
    "beyond-the-gaussian/tails": {
        "smoke": {"generations": 100},
        "default": {"generations": 1000},
        "full": {"generations": 5000},
    },
    "beyond-the-gaussian/fixation": {
        "smoke": {"generations": 150},
        "default": {"generations": 1500},
        "full": {"generations": 7500},
    },
    "beyond-the-gaussian/mixture": {
        "smoke": {"generations": 30, "replicates": 4},
        "default": {"generations": 300, "replicates": 8},
        "full": {"generations": 1500, "replicates": 8},
    },
    "beyond-the-gaussian/kde": {
        "smoke": {"generations": 50},
        "default": {"generations": 500},
        "full": {"generations": 2500},
    },
    "beyond-the-gaussian/regression": {
        "smoke": {"generations": 6},
        "default": {"generations": 60},
        "full": {"generations": 300},
    },
    "beyond-the-gaussian/strong-collapse": {
        "smoke": {"largest": 6400, "replicates": 50},
        "default": {"largest": 102_400, "replicates": 200},
        "full": {"largest": 409_600, "replicates": 1000},
    },
    "beyond-the-gaussian/gaussian-modes": {
        "smoke": {"generations": 20},
        "default": {"generations": 200},
        "full": {"generations": 1000},
    },
    "beyond-the-gaussian/own-model": {
        "smoke": {"generations": 50, "samples": 100, "replicates": 300},
        "default": {"generations": 200, "samples": 100, "replicates": 1000},
        "full": {"generations": 200, "samples": 100, "replicates": 1000},
    },
    # chapter 4: the transformer's loop (one replicate live: its cards read the recorded gpt-* runs, five
    # replicates at the default sizes), the trigram loop and the comparison of decodings
    "text-variety-loss/transformer": {
        "smoke": {"generations": 2, "samples": 200, "eval_samples": 16, "replicates": 1},
        "default": {"generations": 6, "samples": 500, "eval_samples": 48, "replicates": 1},
        "full": {"generations": 10, "samples": 10_000, "eval_samples": 256, "replicates": 2},
    },
    "text-variety-loss/trigram": {
        "smoke": {"generations": 3, "samples": 300, "eval_samples": 16},
        "default": {"generations": 8, "samples": 600, "eval_samples": 48},
        "full": {"generations": 10, "samples": 2000, "eval_samples": 128},
    },
    "text-variety-loss/decoding": {
        "smoke": {"generations": 2, "samples": 200, "eval_samples": 24},
        "default": {"generations": 6, "samples": 500, "eval_samples": 48},
        "full": {"generations": 10, "samples": 2000, "eval_samples": 64},
    },
    # chapter 6: the web loop, and the samples the watermark and the detectors are measured on
    "mitigations/verifier-knowledge": {
        "smoke": {"generations": 10, "replicates": 300},
        "default": {"generations": 20, "replicates": 1000},
        "full": {"generations": 50, "replicates": 2000},
    },
    "mitigations/verifier-transition": {
        "smoke": {"largest": 500, "replicates": 100},
        "default": {"largest": 5000, "replicates": 400},
        "full": {"largest": 50_000, "replicates": 1000},
    },
    "mitigations/self-correction": {
        "smoke": {"generations": 60, "replicates": 300},
        "default": {"generations": 400, "replicates": 1000},
        "full": {"generations": 2000, "replicates": 2000},
    },
    "mitigations/web": {
        "smoke": {"samples": 100, "replicates": 300, "generations": 20},
        "default": {"samples": 100, "replicates": 1000, "generations": 60},
        "full": {"samples": 100, "replicates": 5000, "generations": 200},
    },
    "mitigations/watermark": {
        "smoke": {"texts": 100},
        "default": {"texts": 400},
        "full": {"texts": 2000},
    },
    "mitigations/text-detector": {
        "smoke": {"reference": 1500, "detector": 300},
        "default": {"reference": 4000, "detector": 1000},
        "full": {"reference": 8000, "detector": 2000},
    },
    "mitigations/image-detector": {
        "smoke": {"images": 200},
        "default": {"images": 1000},
        "full": {"images": 5000},
    },
    # chapter 5: a rare class under neutral drift, its labels kept or given by argmax
    "who-disappears-first/rare-class": {
        "smoke": {"samples": 100, "generations": 60, "replicates": 400},
        "default": {"samples": 100, "generations": 200, "replicates": 2000},
        "full": {"samples": 100, "generations": 400, "replicates": 10_000},
    },
    # chapter 5: the diffusion loop with a rare digit, live (its evidence is recorded)
    "who-disappears-first/rare-digit": {
        "smoke": {"generations": 2, "samples": 64, "replicates": 1, "eval_samples": 64},
        "default": {"generations": 3, "samples": 100, "replicates": 2, "eval_samples": 100},
        "full": {"generations": 8, "samples": 100, "replicates": 8, "eval_samples": 100},
    },
    # chapter 5: the Colored MNIST loop with a minority group, live (its evidence is recorded)
    "who-disappears-first/minority-group": {
        "smoke": {"generations": 1, "samples": 32, "replicates": 1, "eval_samples": 32},
        "default": {"generations": 2, "samples": 100, "replicates": 1, "eval_samples": 100},
        "full": {"generations": 5, "samples": 300, "replicates": 5, "eval_samples": 200},
    },
    # chapter 5 (tails and scaling): entries below this line
    "who-disappears-first/tails": {
        "smoke": {"largest": 100_000, "sizes": 5, "replicates": 100, "symbols": 2000},
        "default": {"largest": 1_000_000, "sizes": 11, "replicates": 400, "symbols": 20_000},
        "full": {"largest": 10_000_000, "sizes": 13, "replicates": 1000, "symbols": 50_000},
    },
}


def sizes(section: str, profile: str) -> dict[str, Any]:
    """The sizes of chapter section ``section`` (``"chapter/section"``) at ``profile``, a fresh dict."""
    check_profile(profile)
    if section not in SIZES:
        raise KeyError(f"no sizes for {section!r}: known sections are {', '.join(sorted(SIZES))}")
    return dict(SIZES[section][profile])


def sections() -> list[str]:
    """Every section that has sizes of its own."""
    return sorted(SIZES)


assert all(set(by_profile) == set(PROFILES) for by_profile in SIZES.values())
