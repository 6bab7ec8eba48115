"""Where runs go when one machine is not enough: a Dask cluster, and runs handed to it as tasks.

A :class:`Task` names one run (experiment, parameters, seed) and the run directory a worker
writes it into; :func:`run_tasks` hands tasks to a cluster's workers and calls back as each
finishes. The client reads every result back from the run directories, never from objects a
worker sends. What a worker does with a task is the cluster's ``execute`` function (the
runner's :func:`~autophagy.runner.run_in_folder`), so this module knows no experiment.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .params import ParameterError

CONNECT_TIMEOUT_S = 10
LOCK_WAIT_S = 120  # a run whose previous worker is still dying waits this long for its lock


@dataclass(frozen=True)
class Task:
    """One run for a worker: ``experiment`` at ``profile`` with ``overrides`` (parameters) and
    ``seed``, into the run directory ``folder``; ``gpu`` when it trains or evaluates a network."""

    experiment: str
    folder: str
    profile: str
    seed: int
    overrides: dict[str, Any]
    gpu: bool = False


def wait_for_lock(lock: Path) -> None:
    """Wait while another process (a worker that is still dying) holds ``lock``."""
    if not lock.exists():
        return
    deadline = time.monotonic() + LOCK_WAIT_S
    with open(lock) as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(handle, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return  # the run then reports the live run holding it
                time.sleep(0.2)


@dataclass(frozen=True)
class Cluster:
    """Where tasks run: a new LocalCluster of ``workers`` processes (default: one per core),
    or the running Dask cluster at ``scheduler``; a worker runs a task with ``execute(experiment,
    folder, profile, seed, overrides)``."""

    execute: Callable[..., None]
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

    def run(self, client, tasks: Sequence[Task], on_done: Callable[[Task], None] | None = None) -> None:
        """Run ``tasks`` on ``client``'s workers (a task whose worker dies is retried, and its run
        resumes from its last checkpoint), calling ``on_done(task)`` as each one finishes. The
        first task that fails raises its error here; the finished ones stay finished."""
        from distributed import as_completed

        gpu = _gpu_declared(client)
        token = uuid.uuid4().hex[:8]  # task keys unique on a shared cluster
        futures = {}
        for task in tasks:
            future = client.submit(
                self.execute,
                task.experiment,
                task.folder,
                task.profile,
                task.seed,
                task.overrides,
                key=f"autophagy-run-{token}-{Path(task.folder).name}",
                pure=False,
                retries=2,
                resources={"GPU": 1} if gpu and task.gpu else None,
            )
            futures[future] = task
        for future in as_completed(futures):
            future.result()
            if on_done is not None:
                on_done(futures.pop(future))


def _announce(client, progress: bool) -> None:
    if progress and client.dashboard_link:
        print(f"Dask dashboard: {client.dashboard_link}", file=sys.stderr, flush=True)


def _gpu_declared(client) -> bool:
    workers = client.scheduler_info().get("workers", {}).values()
    return any("GPU" in (w.get("resources") or {}) for w in workers)
