"""A 16-cell Gaussian sweep on 2 local Dask workers against the same cells run one after
another in this process (the ratio is the speed-up; target >= 1.6 on 2 cores), and the
executor's overhead per cell: the sweep's wall time on 2 workers minus the sequential time
halved, over the cells each worker runs. Then the arena at ``default`` (its Gaussian and
n-gram runs) in one process against the same arena on 2 workers, start-up included (what a
user of ``autophagy run arena --workers 2`` waits for).

Each cell draws its samples (``method=sample``) so that it takes a fraction of a second; the
LocalCluster is started before the timed part, as a user's cluster would be.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from timing import timed

import autophagy
from autophagy.runs.cluster import Cluster
from autophagy.sweeps import Spec, SweepDir, execute

GRID = {"mode": ["replace", "fresh", "accumulate", "augment"], "samples": [500, 1000]}
SEEDS = 2
SETTINGS = {"method": "sample", "replicates": 50, "generations": 100}


def main() -> list[dict]:
    spec = Spec("gaussian", "default", GRID, SEEDS, SETTINGS)
    cells = spec.cells()
    with tempfile.TemporaryDirectory() as folder:
        # imports are the process's start-up, not the sweep's (the workers are warmed alike below)
        autophagy.run(
            "gaussian",
            out=Path(folder, "warm-up"),
            profile="default",
            progress=False,
            figures=False,
            **spec.overrides(cells[0]),
        )
        # as a cell runs: the same records, no per-run figures (the sweep draws its own)
        sequential = timed(
            lambda: [
                autophagy.run(
                    "gaussian",
                    out=Path(folder, "seq", c.name),
                    profile="default",
                    seed=c.seed,
                    progress=False,
                    figures=False,
                    **spec.overrides(c),
                )
                for c in cells
            ]
        )
        with Cluster(workers=2).connect(progress=False) as client:
            # imports are the cluster's start-up, not the sweep's
            client.run(lambda: __import__("autophagy.runs.runner"))
            with SweepDir(Path(folder, "sweep"), spec) as sweep_dir:
                parallel = timed(lambda: execute(sweep_dir, client, progress=False))
        arena_here = timed(lambda: autophagy.run("arena", out=Path(folder, "arena-here"), progress=False))
        arena_spread = timed(
            lambda: autophagy.run("arena", out=Path(folder, "arena-spread"), progress=False, workers=2)
        )
    per_worker = len(cells) / 2
    return [
        {"case": f"{len(cells)} cells, one after another", "seconds": sequential},
        {"case": f"{len(cells)} cells on 2 Dask workers", "seconds": parallel},
        {"case": "speed-up (sequential / 2 workers)", "ratio": sequential / parallel},
        {"case": "executor overhead per cell", "seconds": (parallel - sequential / 2) / per_worker},
        {"case": "arena (default), one process", "seconds": arena_here},
        {"case": "arena (default), 2 workers", "seconds": arena_spread},
        {"case": "arena speed-up (one process / 2 workers)", "ratio": arena_here / arena_spread},
    ]


if __name__ == "__main__":
    import pandas as pd

    print(pd.DataFrame(main()).to_string(index=False))
