"""One grid runner: a list of runs (*cells*), run one after another here or as Dask tasks, the same way.

A :class:`Cell` is one run of an experiment with resolved parameters and a seed. Given a
folder, each cell is an ordinary run directory ``FOLDER/NAME``, written by ``execute(cell,
path)`` (here, or by a Dask worker), and its records are read back from its files: a finished
cell is not run again, an interrupted one resumes from its last checkpoint. Without a folder
the cells run here in memory (on a cluster, in a temporary folder). ``autophagy sweep``, the
stages of the sweeps and the arena, and the threshold's grid all run their cells here.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from ..experiments import resolve_config
from .cluster import run_on
from .store import finished, read_records


@dataclass(frozen=True)
class Cell:
    """``experiment`` at ``profile`` with the resolved ``params`` and ``seed``; ``name`` names
    its run directory; ``gpu`` when it trains or evaluates a network (a cluster whose workers
    declare GPUs then gives it one); a cluster starts cells of higher ``priority`` first."""

    name: str
    experiment: str
    params: dict[str, Any]
    seed: int
    profile: str = "default"
    gpu: bool = False
    priority: int = 0


def make_cell(
    name: str, experiment: str, profile: str, seed: int, overrides: dict[str, Any], priority: int = 0
) -> Cell:
    """The cell of ``experiment`` at ``profile`` with ``overrides``, resolved (bad input raises
    :class:`~autophagy.params.ParameterError`)."""
    exp, config = resolve_config(experiment, profile, seed, **overrides)
    params = config["params"]
    return Cell(name, experiment, params, seed, profile, bool(exp.neural(params)), priority)


def with_place(place: dict[str, Any], records: pd.DataFrame) -> pd.DataFrame:
    """``records`` with ``place`` (a cell's place in its grid: column -> value) as leading columns."""
    return pd.concat([pd.DataFrame(place, index=records.index), records], axis=1)


def run_grid(
    cells: Sequence[Cell],
    execute: Callable[[Cell, Path | None], pd.DataFrame | None],
    folder: Path | None = None,
    client=None,
    progress: bool = True,
    description: str = "runs",
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Yield (index, records) of every cell of ``cells`` as it finishes: first the cells
    finished in ``folder`` (not run again), then the others, run by ``execute(cell, path)``
    (the run directory ``path``, or None: return the records) one after another here, or on
    the workers of ``client`` (a connected Dask client) when one is given."""
    with contextlib.ExitStack() as scratch:
        if folder is None and client is not None:  # the workers write run directories
            folder = Path(scratch.enter_context(tempfile.TemporaryDirectory()))
        if folder is not None:  # absolute: a remote worker does not share this working directory
            folder = Path(folder).absolute()
        index = {cell.name: i for i, cell in enumerate(cells)}
        done = [c for c in cells if folder is not None and finished(folder / c.name)]
        todo = [c for c in cells if c.name not in {d.name for d in done}]
        bar = tqdm(total=len(cells), initial=len(done), desc=description, unit="run", disable=not progress)
        with bar:
            for cell in done:
                yield index[cell.name], read_records(folder / cell.name)
            for cell, records in _completed(todo, execute, folder, client):
                bar.update(1)
                yield index[cell.name], records if folder is None else read_records(folder / cell.name)


def _completed(cells: list[Cell], execute, folder: Path | None, client) -> Iterator[tuple[Cell, pd.DataFrame | None]]:
    """Each of ``cells`` as it finishes, with what ``execute`` returned (None on a cluster)."""
    if client is None:
        for cell in cells:
            yield cell, execute(cell, None if folder is None else folder / cell.name)
    elif cells:
        for cell in run_on(client, execute, cells, folder):
            yield cell, None
