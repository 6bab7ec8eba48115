"""Where runs go when one machine is not enough: a Dask cluster that runs the cells of a grid.

:func:`run_on` hands cells (:class:`~autophagy.runs.grid.Cell`) to the workers, each into
its run directory, and yields each as it finishes. The client reads every result back from
the run directories, never from objects a worker sends. What a worker does with a cell is the
``execute`` function it is given (the runner's :func:`~autophagy.runs.runner.run_cell`), so
this module knows no experiment.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..params import ParameterError

CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class Cluster:
    """Where cells run: a new LocalCluster of ``workers`` processes (default: one per core),
    or the running Dask cluster at ``scheduler``."""

    workers: int | None = None
    scheduler: str | None = None

    def __post_init__(self):
        workers = self.workers
        if workers is not None and self.scheduler is not None:
            raise ParameterError("give --workers or --scheduler, not both")
        if workers is not None and (
            isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 1024
        ):
            raise ParameterError(f"--workers {workers!r} is invalid: expected an integer in [1, 1024]")

    @contextlib.contextmanager
    def connect(self, progress: bool = True) -> Iterator[Any]:
        """A ``distributed.Client`` on this cluster (printing its dashboard's address when
        ``progress``). A LocalCluster listens on 127.0.0.1 only (its dashboard too), its
        workers have one thread each. An unreachable scheduler is a ParameterError."""
        import logging

        import dask
        from distributed import Client, LocalCluster

        if self.scheduler is not None:
            try:
                client = Client(self.scheduler, timeout=CONNECT_TIMEOUT_S)
            except (OSError, ValueError, TypeError) as err:
                reason = str(err).splitlines()[0] if str(err) else type(err).__name__
                raise ParameterError(f"--scheduler {self.scheduler} cannot be reached: {reason}") from None
            with client:
                _announce(client, progress)
                yield client
            return
        # Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536, so that glibc hands freed
        # memory back at once; a loop whose every step allocates large temporaries then pays
        # the page faults again each step: the arena's watermark stage ran 128 s against
        # 68 s with glibc's own setting. These workers keep glibc's setting.
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            cluster = LocalCluster(
                n_workers=self.workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                scheduler_port=0,
                dashboard_address="127.0.0.1:0",
                silence_logs=logging.ERROR,
            )
        with cluster, Client(cluster) as client:
            _announce(client, progress)
            yield client


def run_on(client, execute: Callable[[Any, str], None], cells: Sequence, folder: Path) -> Iterator[Any]:
    """Run ``execute(cell, folder / cell.name)`` for each of ``cells`` on ``client``'s workers
    (a cell whose worker dies is retried, and its run resumes from its last checkpoint),
    yielding each cell as it finishes. The first cell that fails raises its error here; the
    finished ones stay finished."""
    from distributed import as_completed

    gpu = _gpu_declared(client)
    token = uuid.uuid4().hex[:8]  # task keys unique on a shared cluster
    futures = {}
    for cell in cells:
        future = client.submit(
            execute,
            cell,
            str(folder / cell.name),
            key=f"autophagy-run-{token}-{cell.name}",
            pure=False,
            retries=2,
            priority=cell.priority,
            resources={"GPU": 1} if gpu and cell.gpu else None,
        )
        futures[future] = cell
    for future in as_completed(futures):
        future.result()
        yield futures.pop(future)


def _announce(client, progress: bool) -> None:
    if progress and client.dashboard_link:
        print(f"Dask dashboard: {client.dashboard_link}", file=sys.stderr, flush=True)


def _gpu_declared(client) -> bool:
    workers = client.scheduler_info().get("workers", {}).values()
    return any("GPU" in (w.get("resources") or {}) for w in workers)
