"""The loop's modes: where the next training set comes from, and what is kept between generations.

A mode is a *source* (what one generation adds: the previous model's samples, the fixed real
set plus samples, fresh real data plus samples, or a scrape of the web) and a *memory* (keep
nothing, keep everything so far, or draw a fixed budget from everything so far). Each mode
knows its label, its description and how many generations' worth of samples it holds, so no
other module needs to read anything into a mode's name.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCES = {
    "synthetic": "the previous generation's samples",
    "augment": "the fixed real set plus samples of the previous generation",
    "fresh": "new real samples plus samples of the previous generation",
    "web": "a scrape of a web whose synthetic share grows each generation",
}
MEMORIES = ("none", "all", "budget")


@dataclass(frozen=True)
class Mode:
    """How the training set of generation t + 1 is built from generation t (t >= 1)."""

    name: str
    description: str
    source: str
    memory: str = "none"

    def __post_init__(self):
        if self.source not in SOURCES or self.memory not in MEMORIES:
            raise ValueError(f"mode {self.name!r}: unknown source {self.source!r} or memory {self.memory!r}")

    @property
    def web(self) -> bool:
        """True when every generation is a scrape that screens (detectors, provenance) may filter."""
        return self.source == "web"

    @property
    def accumulates(self) -> bool:
        """True when the training sets are drawn from a pool holding every generation's samples."""
        return self.memory != "none"

    @property
    def fully_synthetic(self) -> bool:
        """True when each training set is the previous model's samples only (the closed forms' case)."""
        return self.source == "synthetic" and self.memory == "none"

    def sets_held(self, generations: int, synthetic_ratio: float = 1.0) -> float:
        """How many generations' worth of samples the loop holds at once: every generation's
        in a pool, the real set plus the synthetic share when augmenting, otherwise the current
        training set and the next."""
        if self.accumulates:
            return generations + 1
        if self.source == "augment":
            return 1 + synthetic_ratio
        return 2


MODES: dict[str, Mode] = {
    mode.name: mode
    for mode in (
        Mode("replace", "n samples of the previous generation (fully synthetic loop)", "synthetic"),
        Mode("augment", "the fixed real set plus synthetic_ratio * n samples of the previous generation", "augment"),
        Mode("fresh", "real_fraction * n new real samples, the rest from the previous generation", "fresh"),
        Mode("accumulate", "every real and synthetic sample so far", "synthetic", "all"),
        Mode(
            "accumulate-subsample",
            "n samples drawn from everything so far (a fixed data budget)",
            "synthetic",
            "budget",
        ),
        Mode("web", "n samples scraped from a web whose synthetic share grows each generation, unlabelled", "web"),
        Mode("web-accumulate", "every web scrape so far", "web", "all"),
        Mode(
            "web-accumulate-subsample",
            "n samples drawn from every web scrape so far (a fixed data budget)",
            "web",
            "budget",
        ),
    )
}
WEB_MODES = tuple(name for name, mode in MODES.items() if mode.web)


def get(name: str) -> Mode:
    """The mode called ``name``; a ValueError naming the modes otherwise."""
    try:
        return MODES[name]
    except KeyError:
        raise ValueError(f"unknown mode {name!r}: expected one of {', '.join(MODES)}") from None
