"""The registry of named experiments that the command line and the chapters run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from ..engine.loop import MODES, WEB_MODES, LoopSettings, LoopSpec, run_loop
from ..mitigations import filters
from ..params import Param, ParameterError, choice, integer, number


@dataclass
class Experiment:
    """A named experiment.

    ``build(config)`` returns the :class:`LoopSpec`; ``execute`` (optional) replaces it for
    experiments that drive their own loop; ``stages(config)`` (optional) instead lists the runs
    of an experiment made of several (the sweeps and the arena: see :mod:`.stages`). ``columns`` documents
    every metric column of ``metrics.csv``; ``profiles`` maps a profile to its settings;
    ``figures(history)`` returns ``{name: matplotlib figure}`` saved under ``figures/``;
    ``labels`` are the columns naming the stage of a sweep (the knobs) or of the arena;
    ``prepare(config)`` (optional) loads or checks the experiment's data before anything is
    written, raising :class:`autophagy.data.DataError` when it is missing or damaged.
    """

    name: str
    summary: str
    params: list[Param]
    columns: dict[str, str]
    profiles: dict[str, dict[str, Any]]
    build: Callable[[dict[str, Any]], LoopSpec] | None = None
    execute: Callable[..., pd.DataFrame] | None = None
    stages: Callable[[dict[str, Any]], list] | None = None
    figures: Callable[[Any], dict[str, Any]] | None = None
    check: Callable[[dict[str, Any]], None] | None = None
    memory_bytes: Callable[[dict[str, Any]], float] | None = None
    prepare: Callable[[dict[str, Any]], None] | None = None
    labels: tuple[str, ...] = ()
    loop_keys: bool = True  # metrics.csv has the loop's train_size, real_share, real_drawn
    doc: str = field(default="", repr=False)

    def run_records(self, config: dict[str, Any], seed: int, store=None, progress: bool = True,
                    cluster=None) -> pd.DataFrame:
        """Run the experiment and return its tidy records; the stages of a staged experiment
        run on ``cluster`` (an :class:`autophagy.sweeps.Cluster`) when one is given."""
        if self.stages is not None:
            from .stages import run_stages

            return run_stages(self.stages(config), seed, store, progress, self.name, cluster)
        if self.execute is not None:
            return self.execute(config, seed=seed, store=store, progress=progress)
        return run_loop(with_screening(self.build(config), config), LoopSettings.from_config(config, seed),
                        store=store, progress=progress, description=self.name)


_REGISTRY: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    """Add ``experiment`` to the registry (names are unique)."""
    if experiment.name in _REGISTRY:
        raise ValueError(f"experiment {experiment.name!r} is registered twice")
    _REGISTRY[experiment.name] = experiment
    return experiment


def get(name: str) -> Experiment:
    """The experiment called ``name``, or a :class:`ParameterError` listing the names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ParameterError(f"unknown experiment {name!r}: expected one of {', '.join(sorted(_REGISTRY))}") from None


def all_experiments() -> list[Experiment]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


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
        choice("mode", mode, "how the next training set is built", list(MODES)),
        number("real_fraction", 0.1, "fresh mode: share of new real samples", low=0, high=1, low_open=True),
        number("synthetic_ratio", 1.0, "augment mode: synthetic samples per real sample", low=0, high=100, low_open=True),
        *WEB_PARAMS,
        number("detector_tpr", 0.0, "web modes: a simulated detector drops this share of synthetic samples", low=0, high=1),
        number("detector_fpr", 0.0, "web modes: ... and this share of real ones (false positives)", low=0, high=1, high_open=True),
        number("provenance", 0.0, "web modes: share of synthetic samples labelled as such (and dropped)", low=0, high=1),
    ]


SCREENS = ("detector_tpr", "detector_fpr", "provenance")
MIN_PASSING = 0.01  # the loop scrapes again until n samples pass: at most 1000 scrapes


def check_loop(config: dict[str, Any]) -> None:
    """Refuse screening outside the web modes, and a screen that would pass almost nothing."""
    asked = [k for k in SCREENS if config.get(k, 0) > 0]
    if not asked:
        return
    if config["mode"] not in WEB_MODES:
        raise ParameterError(f"{asked[0]} screens a scraped pool: it needs a web mode: {', '.join(WEB_MODES)}")
    share = config["web_max"]
    caught = 1 - (1 - config["provenance"]) * (1 - config["detector_tpr"])
    passing = (1 - share) * (1 - config["detector_fpr"]) + share * (1 - caught)
    if passing < MIN_PASSING:
        raise ParameterError(
            f"only {passing:.2%} of the scraped samples would pass the screening at the web's peak "
            f"(at least {MIN_PASSING:.0%} needed): lower web_max, detector_fpr or detector_tpr"
        )


def with_screening(spec: LoopSpec, config: dict[str, Any]) -> LoopSpec:
    """``spec`` with the configuration's screens (provenance, detector) added to its filter."""
    screens = filters.from_config(config)
    if screens is not None:
        spec.filter = filters.chain([f for f in (spec.filter, screens) if f is not None])
    return spec


MEMORY_LIMIT_BYTES = 4 * 2**30


def training_sets_held(config: dict[str, Any]) -> float:
    """How many generations' worth of samples a loop holds at once: every generation's in
    the accumulate modes (the pool), the real set plus the synthetic share in ``augment``,
    otherwise the current training set and the next."""
    if "accumulate" in config["mode"]:
        return config["generations"] + 1
    if config["mode"] == "augment":
        return 1 + config["synthetic_ratio"]
    return 2


def check_memory(experiment: Experiment, config: dict[str, Any]) -> None:
    """Refuse, before any work, a configuration whose data would not fit the limit."""
    if experiment.memory_bytes is None:
        return
    need = experiment.memory_bytes(config)
    need += 8.0 * 2 * (5 + len(experiment.columns)) * config.get("replicates", 1) * (config.get("generations", 0) + 1)  # the records (float64 columns, concatenated once)
    if need > MEMORY_LIMIT_BYTES:
        raise ParameterError(
            f"this run would hold about {need / 2**30:.1f} GiB of data (limit "
            f"{MEMORY_LIMIT_BYTES / 2**30:.0f} GiB): lower replicates, samples or generations"
        )
