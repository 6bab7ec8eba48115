"""Run a named experiment, in memory or into a run directory: what the CLI and chapters call."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pandas as pd

from ..experiments import resolve_config
from ..params import ParameterError
from .cluster import Cluster
from .folder import LockedFolder
from .grid import Cell, make_cell, run_grid, with_place
from .history import History
from .store import RunDir


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
        cluster = Cluster(workers, scheduler)
        if experiment.stages is None:
            raise ParameterError(
                f"{name} is one loop: --workers and --scheduler spread the runs of the sweeps "
                "and the arena (autophagy sweep spreads a grid of any experiment)"
            )
    if experiment.prepare is not None:  # missing or damaged data: refused before out is written
        experiment.prepare(config["params"])
    if out is None:
        return History(_records(experiment, config, None, progress, cluster), config)
    with RunDir(out, config) as store:
        history = History(_records(experiment, config, store, progress, cluster), config, store.path)
        if figures and experiment.figures is not None:
            save_figures(experiment.figures, history, store.path / "figures")
    return history


def _records(experiment, config: dict[str, Any], store: RunDir | None, progress: bool, cluster) -> pd.DataFrame:
    """The run's records: its loop, or its stages (on ``cluster`` when one is given)."""
    if experiment.stages is None:
        return experiment.run_records(config["params"], config["seed"], store=store, progress=progress)
    return run_stages(experiment, config, store, progress, cluster)


def run_stages(experiment, config: dict[str, Any], store: RunDir | None, progress: bool, cluster) -> pd.DataFrame:
    """Every stage's rows with their place, in order, each stage a cell of the grid (under ``stages/``
    of the run directory): stages saved in ``store`` are not rerun, and each finished stage is
    saved there in turn (so an interrupted run resumes at its first unsaved stage)."""
    stages = experiment.stages(config["params"])
    saved = store.resume() if store is not None else None
    done, rows = (saved[0], [saved[1]]) if saved is not None else (0, [])
    first = done
    cells = [
        make_cell(f"{number:04d}", s.experiment, s.profile, config["seed"], s.params, s.priority)
        for number, s in enumerate(stages[first:], first + 1)
    ]
    folder = store.path / "stages" if store is not None else None
    arrived: dict[int, pd.DataFrame] = {}  # on a cluster stages finish out of order: saved in order
    with cluster.connect(progress) if cluster is not None and cells else contextlib.nullcontext() as client:
        for index, records in run_grid(cells, run_cell, folder, client, progress, experiment.name):
            arrived[first + index] = records
            while done in arrived:
                stage, records = stages[done], arrived.pop(done)
                frame = with_place(stage.place, records if stage.reshape is None else stage.reshape(records))
                done += 1
                rows.append(frame)
                if store is not None and done == len(stages):  # every row, saved stages included
                    store.finish(done, rows, dict)
                elif store is not None:
                    store.checkpoint(done, [frame], dict)
    return pd.concat(rows, ignore_index=True)


def run_cell(cell: Cell, folder: str | os.PathLike | None) -> pd.DataFrame | None:
    """Run one cell of a grid as ``autophagy run`` would: into ``folder`` (resuming it; the
    records stay in its files, and no figures are drawn: the grid's owner draws its own), or,
    without one, in memory (its records returned). A Dask worker runs a cell this way too."""
    if folder is None:
        return run(cell.experiment, profile=cell.profile, seed=cell.seed, progress=False, **cell.params).frame
    LockedFolder(folder).wait_until_free()  # the run's previous worker may still be dying
    run(cell.experiment, out=folder, profile=cell.profile, seed=cell.seed, progress=False, figures=False, **cell.params)
    return None


def save_figures(draw, result, folder) -> None:
    """Draw ``draw(result)`` (``{name: figure}``) in the book's style and write each figure as
    ``folder/NAME.png`` (atomically), then close it."""
    import io

    import matplotlib.pyplot as plt

    from .. import plotting
    from ..files import atomic_write

    with plotting.style():
        figures = draw(result)
    folder.mkdir(exist_ok=True)
    for name, fig in figures.items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        atomic_write(folder / f"{name}.png", buffer.getvalue())
