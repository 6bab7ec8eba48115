"""The stages of an experiment made of several runs (the mitigation sweeps, the arena, tails).

A :class:`Stage` describes one run of a base experiment with resolved parameters; its rows get
the stage's ``labels`` as leading columns. The runner (:mod:`autophagy.runs.runner`) runs the
stages as cells of its grid (:mod:`autophagy.runs.grid`): one after the other in this process,
or, given a cluster (``autophagy run ... --workers N`` or ``--scheduler ADDRESS``), as Dask
tasks, the same way; with a run directory each stage is an ordinary run directory under its
``stages/NNNN`` and each finished stage is saved in the run's record, so an interrupted
experiment resumes at its first unfinished stage, and the record is the same, byte for byte,
wherever the stages ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Stage:
    """``experiment`` run with the resolved ``params`` (resolved at ``profile``); its rows are
    prefixed by ``place`` (its place in the grid: column -> value) and, when given, reshaped by
    ``reshape`` (the arena's long table). On a cluster, stages of higher ``priority`` start first
    (the longest, so that no worker waits on one started last); their rows keep their place."""

    place: dict[str, Any]
    experiment: str
    params: dict[str, Any]
    profile: str = "default"
    priority: int = 0
    reshape: Callable[[pd.DataFrame], pd.DataFrame] | None = field(default=None, compare=False)
