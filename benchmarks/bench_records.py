"""The `full` Gaussian's record on disk, and the whole command-line run, against numpy + .npz.

Two ratios, each against a baseline timed in the same process:

- writing the record (the `full` profile's replicates x (generations + 1) rows): through a
  run directory (metrics.arrows appended every 2 s, metrics.parquet at the end) and as one
  metrics.parquet, against ``np.savez`` of the same columns;
- ``autophagy run gaussian --profile full --out DIR`` (a child process: startup, loop,
  record, figures) against a vectorised numpy loop that keeps every generation's fitted mean
  and variance and saves them to .npz. The loop draws what the `exact` method draws (the
  default, and the `full` profile's): the fit of N samples from N(mu, sigma^2), through its
  sufficient statistics (mean ~ N(mu, sigma^2 / N), N var / sigma^2 ~ chi^2(N - 1)).

``python benchmarks/bench_records.py`` prints the table; ``--record-only`` skips the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from timing import timed

from autophagy.experiments import resolve_config
from autophagy.files import atomic_write
from autophagy.runs.store import RECORDS, RunDir, parquet_bytes

TARGET = 3.0  # the issue: the command line within 3x of numpy + .npz


def full_sizes() -> tuple[int, int, int]:
    """(replicates, generations, samples) of the `full` Gaussian."""
    params = resolve_config("gaussian", "full")[1]["params"]
    return params["replicates"], params["generations"], params["samples"]


def numpy_loop(reps: int, gens: int, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Fitted mean and variance of every replicate at every generation (0 is the truth)."""
    rng = np.random.default_rng(seed)
    mean, var = np.zeros((gens + 1, reps)), np.ones((gens + 1, reps))
    for g in range(1, gens + 1):
        sigma = np.sqrt(var[g - 1])
        mean[g] = mean[g - 1] + sigma / np.sqrt(n) * rng.standard_normal(reps)
        var[g] = var[g - 1] * rng.chisquare(n - 1, reps) / n
    w2 = np.sqrt(mean**2 + (np.sqrt(var) - 1) ** 2)
    return {"mean": mean, "var": var, "w2": w2}


def record_blocks(reps: int, gens: int) -> list[dict[str, np.ndarray]]:
    """One block of rows per generation, with the columns and types of the Gaussian's record."""
    fitted = numpy_loop(reps, gens, 10_000)
    replicate = np.arange(reps)
    return [
        {
            "generation": np.full(reps, g),
            "replicate": replicate,
            "train_size": np.full(reps, 0 if g == 0 else 10_000),
            "real_share": np.full(reps, np.nan if g == 0 else 0.0),
            "real_drawn": np.full(reps, 0 if g == 0 else 10_000),
            **{k: v[g] for k, v in fitted.items()},
        }
        for g in range(gens + 1)
    ]


SAVES = 20  # a run of about 40 s saves this often (every 2 s)


def through_a_run_directory(folder: Path, blocks: list[dict]) -> None:
    """The blocks saved as a run saves them: SAVES - 1 appends to the journal, then every row
    as the Parquet."""
    config = {"experiment": "gaussian", "params": {}, "seed": 0}
    last = len(blocks) - 1
    ends = np.linspace(1, last, SAVES).astype(int).tolist()
    with RunDir(folder, config, save_every=0.0) as store:
        start = 0
        for end in ends[:-1]:
            store.checkpoint(end, blocks[start : end + 1], dict)
            start = end + 1
        store.finish(last, blocks, dict)


def record_rows(folder: Path) -> list[dict]:
    reps, gens, _ = full_sizes()
    blocks = record_blocks(reps, gens)
    frame = pd.DataFrame({k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]})
    columns = {k: frame[k].to_numpy() for k in frame}
    npz = timed(lambda: np.savez(folder / "record.npz", **columns), repeat=3)
    parquet = timed(lambda: atomic_write(folder / RECORDS, parquet_bytes(frame)), repeat=3)
    counter = iter(range(10**6))
    store = timed(lambda: through_a_run_directory(folder / f"run{next(counter)}", blocks), repeat=2)
    size = (folder / RECORDS).stat().st_size / 2**20
    rows = f"{len(frame):,} rows"
    return [
        {"case": f"np.savez of the full Gaussian's record ({rows})", "seconds": npz, "target": "baseline"},
        {
            "case": f"  metrics.parquet alone ({size:.0f} MiB)",
            "seconds": parquet,
            "target": f"ratio {parquet / npz:.2f}",
        },
        {
            "case": "  through a run directory (journal + parquet)",
            "seconds": store,
            "target": f"ratio {store / npz:.2f}",
        },
    ]


def cli_rows(folder: Path) -> list[dict]:
    reps, gens, n = full_sizes()

    def baseline():
        np.savez(folder / "loop.npz", **numpy_loop(reps, gens, n))

    loop = timed(baseline, repeat=1)
    out = folder / "cli"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "autophagy.cli", "run", "gaussian", "--profile", "full", "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    cli = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"autophagy run failed: {done.stderr.strip().splitlines()[-1:]}")
    return [
        {"case": f"numpy loop + .npz ({reps} x {gens} generations, N={n})", "seconds": loop, "target": "baseline"},
        {
            "case": "  autophagy run gaussian --profile full",
            "seconds": cli,
            "target": f"ratio {cli / loop:.2f} (target < {TARGET:g})",
        },
    ]


def main(record_only: bool = False) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        rows = record_rows(Path(tmp))
        if not record_only:
            rows += cli_rows(Path(tmp))
    return rows


if __name__ == "__main__":
    for row in main("--record-only" in sys.argv[1:]):
        print(f"{row['case']:<62} {row['seconds']:8.3f} s   {row['target']}")
