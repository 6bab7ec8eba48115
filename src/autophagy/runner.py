"""Run a named experiment, in memory or into a run directory: what the CLI and chapters call."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .cluster import Cluster, wait_for_lock
from .engine.history import History
from .engine.store import RunDir
from .experiments import resolve_config
from .params import ParameterError


def run(
    name: str,
    out: str | os.PathLike | None = None,
    profile: str = "default",
    seed: int = 0,
    progress: bool = True,
    workers: int | None = None,
    scheduler: str | None = None,
    figures: bool = True,
    **overrides: Any,
) -> History:
    """Run experiment ``name`` and return its :class:`History`.

    ``overrides`` set parameters (``autophagy list`` shows them). With ``out`` the run is
    saved there as it goes (metrics.parquet, config.json and, unless ``figures`` is false,
    figures/) and resumes if interrupted.
    The runs of a sweep or the arena go to Dask workers with ``workers`` (a LocalCluster of
    that many processes) or ``scheduler`` (a running cluster's address); by default they run
    here, one after the other. The record is the same either way.
    """
    experiment, config = resolve_config(name, profile, seed, **overrides)
    cluster = None
    if workers is not None or scheduler is not None:
        cluster = Cluster(run_in_folder, workers, scheduler)
        if experiment.stages is None:
            raise ParameterError(
                f"{name} is one loop: --workers and --scheduler spread the runs of the sweeps "
                "and the arena (autophagy sweep spreads a grid of any experiment)"
            )
    if experiment.prepare is not None:  # missing or damaged data: refused before out is written
        experiment.prepare(config["params"])
    if out is None:
        return History(experiment.run_records(config["params"], seed, progress=progress, cluster=cluster), config)
    with RunDir(out, config) as store:
        history = History(
            experiment.run_records(config["params"], seed, store=store, progress=progress, cluster=cluster),
            config,
            store.path,
        )
        if figures and experiment.figures is not None:
            save_figures(experiment.figures(history), store.path / "figures")
    return history


def run_in_folder(experiment: str, folder: str, profile: str, seed: int, overrides: dict[str, Any]) -> None:
    """Worker side: run one task into ``folder`` (resuming it), as ``autophagy run`` would.

    Returns nothing: the client reads the records from its files. It draws no figures (they
    cost more than a toy run): the sweep, or the staged experiment, draws its own.
    """
    wait_for_lock(Path(folder) / ".lock")
    run(experiment, out=folder, profile=profile, seed=seed, progress=False, figures=False, **overrides)


def save_figures(figures: dict[str, Any], folder) -> None:
    """Write each figure as ``folder/NAME.png`` (atomically) and close it."""
    import io

    import matplotlib.pyplot as plt

    from .files import atomic_write

    folder.mkdir(exist_ok=True)
    for name, fig in figures.items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        atomic_write(folder / f"{name}.png", buffer.getvalue())
