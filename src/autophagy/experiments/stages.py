"""Experiments made of several runs (the mitigation sweeps, the arena), one *stage* per run.

A :class:`Stage` is one run of a base experiment with resolved parameters; its rows get the
stage's ``labels`` as leading columns. With a run directory each finished stage is saved (rows
and manifest, as a loop saves generations), so an interrupted experiment resumes at its first
unfinished stage.

Stages run one after the other in this process, or, given a :class:`~autophagy.cluster.Cluster`
(``autophagy run ... --workers N`` or ``--scheduler ADDRESS``), as Dask tasks: each stage is then
an ordinary run directory under ``stages/NNNN`` of the run (resumable on its own, generation by
generation), written by a worker and read back from its files, and the run's record is the
same, byte for byte, as when the stages run here.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from ..cluster import Task
from ..engine.store import read_records


@dataclass(frozen=True)
class Stage:
    """``experiment`` run with the resolved ``params`` (resolved at ``profile``); its rows are
    prefixed by ``labels`` and, when given, reshaped by ``reshape`` (the arena's long table)."""

    labels: dict[str, Any]
    experiment: str
    params: dict[str, Any]
    profile: str = "default"
    reshape: Callable[[pd.DataFrame], pd.DataFrame] | None = field(default=None, compare=False)

    def records(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The stage's rows in the experiment's record: labels first, then ``frame`` (reshaped)."""
        if self.reshape is not None:
            frame = self.reshape(frame)
        return pd.concat([pd.DataFrame(self.labels, index=frame.index), frame], axis=1)


def run_stages(
    stages: list[Stage],
    experiments: Callable[[str], Any],
    seed: int,
    store=None,
    progress: bool = True,
    description: str = "stages",
    cluster=None,
) -> pd.DataFrame:
    """Every stage's labelled rows, in order (stages saved in ``store`` are not rerun); on
    ``cluster``'s workers when one is given, else here, one after the other. ``experiments(name)``
    is the registered experiment a stage runs."""
    saved = store.resume() if store is not None else None
    done, frames = (saved[0], [saved[1]]) if saved is not None else (0, [])
    todo = list(range(done + 1, len(stages) + 1))
    if cluster is None:
        results = _here(stages, experiments, todo, seed, progress, description)
    else:
        results = _on_cluster(stages, experiments, todo, seed, store, cluster, progress, description)
    for number, frame in results:
        frame = stages[number - 1].records(frame)
        if store is not None:
            block = {column: frame[column].to_numpy() for column in frame.columns}
            store.checkpoint(number, [block], dict, final=number == len(stages))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _here(
    stages: list[Stage], experiments, todo: list[int], seed: int, progress: bool, description: str
) -> Iterator[tuple[int, pd.DataFrame]]:
    for number in tqdm(todo, desc=description, unit="run", disable=not progress, leave=False):
        stage = stages[number - 1]
        yield number, experiments(stage.experiment).run_records(stage.params, seed, progress=False)


def _on_cluster(
    stages: list[Stage], experiments, todo: list[int], seed: int, store, cluster, progress: bool, description: str
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Run the stages ``todo`` as tasks, then yield their records (read from their folders)."""
    with contextlib.ExitStack() as scratch:  # without a run directory, the stages' folders are temporary
        # absolute: a worker of a remote cluster does not share this process's working directory
        top = store.path.absolute() if store is not None else Path(scratch.enter_context(tempfile.TemporaryDirectory()))
        root = top / "stages"
        tasks = {}
        for number in todo:
            stage = stages[number - 1]
            tasks[number] = Task(
                stage.experiment,
                str(root / f"{number:04d}"),
                stage.profile,
                seed,
                stage.params,
                gpu=bool(experiments(stage.experiment).neural(stage.params)),
            )
        if tasks:
            with cluster.connect(progress) as client:
                bar = tqdm(
                    total=len(stages),
                    initial=len(stages) - len(todo),
                    desc=description,
                    unit="run",
                    disable=not progress,
                )
                with bar:
                    cluster.run(client, list(tasks.values()), on_done=lambda task: bar.update(1))
        for number, task in tasks.items():
            yield number, read_records(task.folder)
