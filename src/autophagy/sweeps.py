"""Grids of runs as Dask tasks (``autophagy sweep``), resumable cell by cell.

A sweep runs one experiment for every combination of grid values and every seed. Each such
*cell* is an ordinary run directory, written by a Dask worker exactly as ``autophagy run``
writes it for the same parameters and seed. Layout of a sweep directory ``DIR``::

    sweep.json     the spec: experiment, profile, grid, seeds, settings, and the cells
    manifest.json  every cell's status and the SHA-256 of its records, the package version
                   and git revision; once all cells finished, the length and SHA-256 of
                   metrics.parquet (as a run's manifest vouches for its rows)
    metrics.parquet  the combined record: the grid keys and ``seed``, then each cell's columns
    figures/*.png  the last generation's metrics against each grid key (heatmaps for two keys)
    cells/NNNN/    one run directory per cell (its records; the sweep draws the figures)
    .lock          held by the client running the sweep (see :mod:`autophagy.runs.folder`)

The cells run on Dask workers through the grid runner (:mod:`autophagy.runs.grid`): workers
receive parameters (plain values) and write run directories; the client reads the results
back from those files, never from objects a worker sends. Run the same sweep again and
finished cells are skipped, interrupted ones resume from their last checkpoint.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__
from .experiments import get, resolve_config
from .files import atomic_write, display_path
from .params import ParameterError
from .runs.cluster import Cluster
from .runs.folder import LockedFolder
from .runs.grid import make_cell, run_grid, with_place
from .runs.runner import run_cell, save_figures
from .runs.store import RECORDS, finished, parquet_bytes, read_records, vouched_metrics

SPEC = "sweep.json"
MANIFEST = "manifest.json"
MANIFEST_EVERY_S = 1.0  # the manifest's statuses lag the cells by at most this (a rerun reads the cells)


@dataclass(frozen=True)
class SweepCell:
    """One run of a sweep: its folder name under ``cells/``, grid values and seed."""

    name: str
    values: dict[str, Any]
    seed: int


@dataclass
class Spec:
    """What a sweep runs: ``experiment`` at ``profile`` with ``settings``, for every combination
    of ``grid`` values (in order, the last key varying fastest) and seeds 0 .. ``seeds`` - 1."""

    experiment: str
    profile: str
    grid: dict[str, list[Any]]
    seeds: int
    settings: dict[str, Any] = field(default_factory=dict)

    def cells(self) -> list[SweepCell]:
        combos = list(itertools.product(*self.grid.values(), range(self.seeds)))
        width = max(4, len(str(len(combos) - 1)))
        return [
            SweepCell(f"{i:0{width}d}", dict(zip(self.grid, combo[:-1])), combo[-1]) for i, combo in enumerate(combos)
        ]

    def overrides(self, cell: SweepCell) -> dict[str, Any]:
        """The parameters ``autophagy run`` is given for ``cell`` (settings, then grid values)."""
        return {**self.settings, **cell.values}

    def as_json(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "profile": self.profile,
            "grid": self.grid,
            "seeds": self.seeds,
            "settings": self.settings,
        }


def make_spec(
    experiment: str,
    grid: dict[str, Sequence[Any]] | None = None,
    seeds: int = 1,
    profile: str = "default",
    settings: dict[str, Any] | None = None,
) -> Spec:
    """A checked :class:`Spec`: every cell's configuration is resolved here, so bad input (an
    unknown key, an empty value list, a value out of range in any cell) raises a
    :class:`ParameterError` before anything runs or is written."""
    from .runs.history import KEYS

    exp = get(experiment)
    by_name = {p.name: p for p in exp.params}
    grid, settings = dict(grid or {}), dict(settings or {})
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= 10**6:
        raise ParameterError(f"--seeds {seeds!r} is invalid: expected an integer in [1, 1000000]")
    converted: dict[str, list[Any]] = {}
    for key, values in grid.items():
        if key == "seed":
            raise ParameterError("--grid seed is not a parameter: use --seeds N for seeds 0 .. N-1")
        if key not in by_name:
            raise ParameterError(f"unknown grid key {key!r}: expected one of {', '.join(by_name)}")
        if key in settings:
            raise ParameterError(f"{key} is given both in --grid and --set")
        if key in exp.columns or key in KEYS or key in exp.stage_columns:
            raise ParameterError(f"--grid {key} would clash with the record's column {key!r}")
        values = list(values)
        if not values or any(isinstance(v, str) and not v.strip() for v in values):
            raise ParameterError(f"--grid {key} has an empty value: expected {key}=V1,V2,...")
        converted[key] = [by_name[key].convert(v) for v in values]
        if len(set(map(repr, converted[key]))) < len(values):
            raise ParameterError(f"--grid {key} lists a value twice")
    for key, value in settings.items():
        if key in by_name:
            settings[key] = by_name[key].convert(value)
    spec = Spec(experiment, profile, converted, seeds, settings)
    prepared = set()
    for cell in spec.cells():
        config = resolve_config(experiment, profile, cell.seed, **spec.overrides(cell))[1]
        params = json.dumps(config["params"], sort_keys=True)
        if exp.prepare is not None and params not in prepared:  # missing data: refused now
            exp.prepare(config["params"])
            prepared.add(params)
    return spec


# -- the sweep directory ------------------------------------------------------------------


class SweepDir(LockedFolder):
    """The folder of one sweep; use as a context manager to hold its lock."""

    described_by = SPEC
    holds = "sweep"

    def __init__(self, path: str | os.PathLike, spec: Spec):
        super().__init__(Path(path).absolute())
        self.spec = spec

    def cell_path(self, cell: SweepCell) -> Path:
        return self.path / "cells" / cell.name

    def check(self) -> None:
        """Refuse a folder holding something else, or a sweep another client is running."""
        super().check()
        if self.is_locked():
            raise ParameterError(self._busy())

    def differences(self, old: dict) -> str:
        mine = json.loads(json.dumps(self.spec.as_json()))
        changed = [k for k, v in mine.items() if old.get(k) != v]
        return f"another sweep (its {', '.join(changed)} differ)" if changed else ""

    def foreign(self) -> str:
        return "holds a run, not a sweep" if (self.path / "config.json").exists() else super().foreign()

    def _busy(self) -> str:
        return f"--out {display_path(self.path)} is being run by another client{self.holder()}: wait for it to end"

    def __enter__(self) -> SweepDir:
        self.check()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            locked = self.lock()
        except OSError as err:
            raise ParameterError(f"--out {display_path(self.path)} cannot be written: {err.strerror or err}") from None
        if not locked:
            raise ParameterError(self._busy())
        if not (self.path / SPEC).exists():  # written first: a folder with cells/ holds a sweep
            spec = {**self.spec.as_json(), "cells": [vars(c) for c in self.spec.cells()]}
            atomic_write(self.path / SPEC, json.dumps(spec, indent=2).encode())
        (self.path / "cells").mkdir(exist_ok=True)
        return self

    def __exit__(self, *exc) -> None:
        self.unlock()

    # -- records --------------------------------------------------------------------------
    def status(self, cell: SweepCell) -> str:
        if finished(self.cell_path(cell)):
            return "finished"
        return "started" if (self.cell_path(cell) / "manifest.json").exists() else "pending"

    def write_manifest(self, done: dict[str, str], combined: bytes | None = None) -> None:
        """The manifest: each cell's status and checksum (``done``: name -> SHA-256 of its
        vouched records), and once every cell finished, the combined record's length and hash."""
        cells = [
            {
                "name": c.name,
                **c.values,
                "seed": c.seed,
                "status": "finished" if c.name in done else self.status(c),
                "metrics_sha256": done.get(c.name),
            }
            for c in self.spec.cells()
        ]
        manifest = {
            "experiment": self.spec.experiment,
            "finished": combined is not None,
            "cells_finished": len(done),
            "cells": cells,
            "autophagy_version": __version__,
            "git_revision": git_revision(),
        }
        if combined is not None:
            manifest.update(
                records=RECORDS, metrics_bytes=len(combined), metrics_sha256=hashlib.sha256(combined).hexdigest()
            )
        atomic_write(self.path / MANIFEST, json.dumps(manifest, indent=2).encode())

    def cell_frame(self, cell: SweepCell) -> pd.DataFrame:
        """``cell``'s records (the rows its manifest vouches for), grid keys and seed first."""
        return with_place({**cell.values, "seed": cell.seed}, read_records(self.cell_path(cell)))

    def combine(self) -> bytes:
        """Write the combined record of every cell (every cell must have finished)."""
        frame = pd.concat([self.cell_frame(c) for c in self.spec.cells()], ignore_index=True)
        data = parquet_bytes(frame)
        atomic_write(self.path / RECORDS, data)
        return data


def git_revision() -> str | None:
    """The git commit of the package's source tree, or None when it is not a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out or None


# -- the executor -------------------------------------------------------------------------


def execute(folder: SweepDir, client, progress: bool = True) -> dict[str, str]:
    """Run every unfinished cell of ``folder`` on ``client``'s workers (a connected Dask
    client); returns name -> records' SHA-256."""
    spec = folder.spec
    cells = [make_cell(c.name, spec.experiment, spec.profile, c.seed, spec.overrides(c)) for c in spec.cells()]
    done: dict[str, str] = {}
    written = -math.inf
    try:
        for index, _ in run_grid(cells, run_cell, folder.path / "cells", client, progress, spec.experiment):
            done[cells[index].name] = _records_hash(folder, cells[index].name)
            if time.monotonic() - written > MANIFEST_EVERY_S:  # each write lists every cell: not after each one
                folder.write_manifest(done)
                written = time.monotonic()
    finally:
        folder.write_manifest(done)
    return done


def _records_hash(folder: SweepDir, name: str) -> str:
    return hashlib.sha256(vouched_metrics(folder.path / "cells" / name)[1]).hexdigest()


@dataclass
class SweepResult:
    """A sweep's combined record (``frame``: only finished cells), its spec and manifest."""

    frame: pd.DataFrame
    spec: Spec
    manifest: dict[str, Any]

    @property
    def keys(self) -> list[str]:
        """The grid keys and ``seed``: the columns naming a cell."""
        return [*self.spec.grid, "seed"]

    @property
    def metrics(self) -> list[str]:
        """The experiment's metric columns."""
        exp = get(self.spec.experiment)
        return [c for c in exp.columns if c in self.frame.columns and c not in exp.stage_columns]

    def final(self) -> pd.DataFrame:
        """Each cell's records at its last generation."""
        last = self.frame.groupby(self.keys)["generation"].transform("max")
        return self.frame[self.frame["generation"] == last]

    def summary(self) -> pd.DataFrame:
        """The mean of every metric at the last generation, per grid point (over seeds and
        replicates), with the number of seeds finished."""
        stage_columns = [c for c in get(self.spec.experiment).stage_columns if c in self.frame.columns]
        final = self.final()
        groups = (
            final.groupby([*self.spec.grid, *stage_columns], sort=False)
            if self.spec.grid or stage_columns
            else final.groupby(lambda _: "all")
        )
        table = groups[self.metrics].mean()
        table.columns = [f"{m} mean" for m in table.columns]
        table.insert(0, "seeds", groups["seed"].nunique())
        table.insert(1, "generation", groups["generation"].max())
        return table


def load(path: str | os.PathLike) -> SweepResult:
    """The sweep in folder ``path``, finished or not (the records of its finished cells).

    Raises ParameterError when the folder holds no sweep or a damaged one."""
    path = Path(path)
    try:
        raw = json.loads((path / SPEC).read_text())
        spec = Spec(raw["experiment"], raw["profile"], raw["grid"], raw["seeds"], raw.get("settings", {}))
        manifest = json.loads((path / MANIFEST).read_text()) if (path / MANIFEST).exists() else {}
        folder = SweepDir(path, spec)
        names = {c.name for c in spec.cells() if finished(folder.cell_path(c))}
        if manifest.get("finished") and (path / RECORDS).exists():
            frame = read_records(path)
        else:
            frames = [folder.cell_frame(c) for c in spec.cells() if c.name in names]
            frame = (
                pd.concat(frames, ignore_index=True)
                if frames
                else pd.DataFrame(columns=[*spec.grid, "seed", "generation"])
            )
    except FileNotFoundError:
        raise ParameterError(f"{display_path(path)} holds no sweep (no {SPEC})") from None
    except OSError as err:
        raise ParameterError(f"{display_path(path)} cannot be read: {err.strerror or err}") from None
    except (ValueError, KeyError, TypeError) as err:
        raise ParameterError(
            f"{display_path(path)} holds a damaged sweep: "
            f"{str(err).splitlines()[0] if str(err) else type(err).__name__}"
        ) from None
    return SweepResult(frame, spec, manifest)


def sweep(
    experiment: str,
    out: str | os.PathLike,
    grid: dict[str, Sequence[Any]] | None = None,
    seeds: int = 1,
    profile: str = "default",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    **settings: Any,
) -> SweepResult:
    """Run ``experiment`` for every combination of ``grid`` values and seeds 0 .. ``seeds`` - 1
    into ``out`` (see the module's docstring), on a LocalCluster of ``workers`` processes or
    the Dask cluster at ``scheduler``; ``settings`` set the other parameters. Run it again to
    resume. Bad input raises ParameterError before anything is written."""
    spec = make_spec(experiment, grid, seeds, profile, settings)
    cluster = Cluster(workers, scheduler)
    folder = SweepDir(out, spec)
    folder.check()
    with cluster.connect(progress) as client:
        with folder:
            done = execute(folder, client, progress)
            folder.write_manifest(done, folder.combine())
            result = load(folder.path)
            _save_figures(result, folder.path / "figures")
    return result


def _save_figures(result: SweepResult, folder: Path) -> None:
    from .sweepplots import figures

    save_figures(figures, result, folder)
