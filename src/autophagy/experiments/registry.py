"""The registry of named experiments that the command line and the chapters run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import __version__
from ..engine.loop import LoopSettings, LoopSpec, run_loop
from ..params import Param, ParameterError, resolve
from ..profiles import check_profile
from .loops import check_loop, with_screening
from .memory import check_memory


@dataclass
class Experiment:
    """A named experiment.

    Each function below takes the run's resolved parameters (``params``).
    ``build(params, progress)`` returns the :class:`LoopSpec` (``progress``: show the bars of
    long fits); ``stages(params)`` instead lists the runs of an experiment made of several (the
    sweeps and the arena: see :mod:`.stages`). ``columns`` documents
    every metric column of ``metrics.parquet``; ``profiles`` maps a profile to its settings;
    ``figures(history)`` returns ``{name: matplotlib figure}`` saved under ``figures/``;
    ``stage_columns`` are the columns naming the stage of a sweep (the knobs) or of the arena;
    ``neural(params)`` says whether a run trains or evaluates a neural network (a cluster
    then gives it a GPU where its workers declare one); ``prepare(params)`` (optional) loads or checks the experiment's data before anything is
    written, raising :class:`autophagy.data.DataError` when it is missing or damaged.
    """  # noqa: E501

    name: str
    summary: str
    params: list[Param]
    columns: dict[str, str]
    profiles: dict[str, dict[str, Any]]
    build: Callable[[dict[str, Any], bool], LoopSpec] | None = None
    stages: Callable[[dict[str, Any]], list] | None = None
    figures: Callable[[Any], dict[str, Any]] | None = None
    check: Callable[[dict[str, Any]], None] | None = None
    memory_bytes: Callable[[dict[str, Any]], float] | None = None
    prepare: Callable[[dict[str, Any]], None] | None = None
    stage_columns: tuple[str, ...] = ()
    neural: Callable[[dict[str, Any]], bool] = lambda params: False  # trains or runs a network (wants a GPU)
    loop_keys: bool = True  # the record has the loop's train_size, real_share, real_drawn

    def run_records(self, params: dict[str, Any], seed: int, store=None, progress: bool = True) -> pd.DataFrame:
        """Run the experiment's loop and return its tidy records (the runner,
        :mod:`autophagy.runs.runner`, runs the stages of a staged experiment)."""
        return run_loop(
            with_screening(self.build(params, progress), params),
            LoopSettings.from_params(params, seed),
            store=store,
            progress=progress,
            description=self.name,
        )


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


def resolve_config(
    name: str, profile: str = "default", seed: int = 0, **overrides: Any
) -> tuple[Experiment, dict[str, Any]]:
    """The experiment and its fully resolved configuration; bad input raises ParameterError."""
    experiment = get(name)
    check_profile(profile)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ParameterError(f"seed={seed!r} is invalid: expected an integer in [0, 2^63)")
    params = resolve(experiment.params, experiment.profiles.get(profile, {}), overrides, experiment.check)
    if "mode" in params:
        check_loop(params)
    check_memory(experiment, params)
    config = {"experiment": name, "profile": profile, "seed": seed, "params": params, "autophagy_version": __version__}
    if experiment.stage_columns:
        config["stage_columns"] = list(experiment.stage_columns)
    return experiment, config
