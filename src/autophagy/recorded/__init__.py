"""Recorded runs: runs too long for a chapter's live execution (SmolLM2 on a CPU), made once
by ``tools/record_run.py`` and shipped with the package, each in a folder of its own.

A folder holds the run's ``metrics.parquet``, ``config.json``, its saved ``samples/`` and
``RECORD.json``: how it was made (the command, the command that re-makes it, wall time,
hardware, versions) and the SHA-256 of every file, which :func:`load` checks.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data import DataError

FOLDER = Path(__file__).parent


@dataclass
class Recorded:
    """One recorded run: its records (``frame``), ``config``, ``record``, saved text
    ``samples`` ({(generation, replicate): the saved texts and their perplexities}) and the
    ``folder`` it was read from (where an image run's sample grids lie, in ``samples/``)."""

    frame: Any
    config: dict[str, Any]
    record: dict[str, Any]
    samples: dict[tuple[int, int], dict[str, Any]]
    folder: Path

    @property
    def params(self) -> dict[str, Any]:
        """The run's resolved parameters (``config["params"]``)."""
        return self.config["params"]

    def history(self):
        """The records as a :class:`~autophagy.runs.history.History`, like a live run's."""
        from ..runs.history import History

        return History(self.frame, self.config, self.folder)


def evidence(runs: list[Recorded]) -> str:
    """What a claim card says of its recorded evidence: the replicates and generations of each
    arm, how many arms (a recorded sweep: each setting of its grid is an arm, and its seeds are
    replicates), and what making them cost (wall time and hardware)."""
    params = [run.params for run in runs]
    replicates = sorted({run.params["replicates"] * run.config.get("seeds", 1) for run in runs})
    generations = sorted({p["generations"] for p in params})
    hours = sum(run.record["wall_seconds"] for run in runs) / 3600
    cost = f"{hours:.1f} h" if hours >= 1 else f"{hours * 60:.0f} min"
    settings = sum(math.prod(len(v) for v in run.config.get("grid", {}).values()) for run in runs)
    arms = f", {settings} arms" if settings > 1 else ""
    plural = {"replicate": "" if replicates == [1] else "s", "generation": "" if generations == [1] else "s"}
    return (
        f"recorded: {'/'.join(map(str, replicates))} replicate{plural['replicate']} x "
        f"{'/'.join(map(str, generations))} generation{plural['generation']}"
        f"{arms}, made by tools/record_run.py in {cost} on {runs[0].record['hardware']}"
    )


def names(folder: Path = FOLDER) -> list[str]:
    """The recorded runs shipped in ``folder``."""
    return sorted(p.parent.name for p in Path(folder).glob("*/RECORD.json"))


def load(name: str, folder: Path = FOLDER) -> Recorded:
    """The recorded run ``name``, after checking every file against ``RECORD.json``; a missing
    or changed file is one DataError naming the command that re-makes the run."""
    import pandas as pd

    base = Path(folder) / name
    try:
        record = json.loads((base / "RECORD.json").read_text())
    except (OSError, ValueError) as err:
        raise DataError(f"the recorded run {name} has no readable RECORD.json ({err.__class__.__name__})") from None
    fix = f"re-make it with: {record.get('rebuild', 'tools/record_run.py')}"
    present = {str(p.relative_to(base)) for p in base.rglob("*") if p.is_file() and p.name != "RECORD.json"}
    if present != set(record["files"]):
        raise DataError(f"the recorded run {name} does not hold the files its record lists: {fix}")
    for relative, digest in record["files"].items():
        if hashlib.sha256((base / relative).read_bytes()).hexdigest() != digest:
            raise DataError(f"{relative} of the recorded run {name} does not match its SHA-256: {fix}")
    samples = {}
    for path in sorted((base / "samples").glob("g*_r*.json")):
        saved = json.loads(path.read_text())
        samples[saved["generation"], saved["replicate"]] = saved
    return Recorded(
        pd.read_parquet(base / "metrics.parquet"), json.loads((base / "config.json").read_text()), record, samples, base
    )
