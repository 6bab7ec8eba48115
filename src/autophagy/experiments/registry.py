"""The registry of named experiments that the command line and the chapters run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from ..loop import MODES, LoopSettings, LoopSpec, run_loop
from ..params import Param, ParameterError, choice, integer, number


@dataclass
class Experiment:
    """A named experiment.

    ``build(config)`` returns the :class:`LoopSpec`; ``execute`` (optional) replaces the
    single loop for experiments that run several (sweeps, the arena). ``columns`` documents
    every metric column of ``metrics.csv``; ``profiles`` maps a profile to its settings;
    ``figures(history)`` returns ``{name: matplotlib figure}`` saved under ``figures/``.
    """

    name: str
    summary: str
    params: list[Param]
    columns: dict[str, str]
    profiles: dict[str, dict[str, Any]]
    build: Callable[[dict[str, Any]], LoopSpec] | None = None
    execute: Callable[..., pd.DataFrame] | None = None
    figures: Callable[[Any], dict[str, Any]] | None = None
    check: Callable[[dict[str, Any]], None] | None = None
    memory_bytes: Callable[[dict[str, Any]], float] | None = None
    doc: str = field(default="", repr=False)

    def run_records(self, config: dict[str, Any], seed: int, store=None, progress: bool = True) -> pd.DataFrame:
        """Run the experiment and return its tidy records."""
        if self.execute is not None:
            return self.execute(config, seed=seed, store=store, progress=progress)
        settings = LoopSettings(
            generations=config["generations"], samples=config["samples"], mode=config["mode"],
            replicates=config["replicates"], seed=seed,
            real_fraction=config.get("real_fraction", 0.1),
            synthetic_ratio=config.get("synthetic_ratio", 1.0),
        )
        return run_loop(self.build(config), settings, store=store, progress=progress, description=self.name)


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


def loop_params(generations: int, samples: int, replicates: int, mode: str = "replace") -> list[Param]:
    """The parameters every loop experiment shares, with their ranges."""
    return [
        integer("generations", generations, "number of generations after the truth", low=1, high=10**6),
        integer("samples", samples, "samples in a generation's training set (N)", low=2, high=10**8),
        integer("replicates", replicates, "independent repetitions of the whole loop", low=1, high=10**6),
        choice("mode", mode, "how the next training set is built", list(MODES)),
        number("real_fraction", 0.1, "fresh mode: share of new real samples", low=0, high=1, low_open=True),
        number("synthetic_ratio", 1.0, "augment mode: synthetic samples per real sample", low=0, high=100, low_open=True),
    ]


MEMORY_LIMIT_BYTES = 4 * 2**30


def check_memory(experiment: Experiment, config: dict[str, Any]) -> None:
    """Refuse, before any work, a configuration whose data would not fit the limit."""
    if experiment.memory_bytes is None:
        return
    need = experiment.memory_bytes(config)
    if need > MEMORY_LIMIT_BYTES:
        raise ParameterError(
            f"this run would hold about {need / 2**30:.1f} GiB of data (limit "
            f"{MEMORY_LIMIT_BYTES / 2**30:.0f} GiB): lower replicates, samples or generations"
        )
