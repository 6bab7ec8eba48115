"""Wall time and peak memory (resident set, MB) of each chapter run by papermill at a profile.

Each chapter runs in a fresh child process that executes the notebook (its kernel is that
process's child) and prints ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``: the peak of
the kernel, which holds all the chapter's work. ``python benchmarks/bench_chapters.py 03 05``
measures only the chapters whose names contain those strings; ``AUTOPHAGY_BENCH_PROFILE``
picks the profile (``default`` unless set).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autophagy.experiments.budget import MEMORY_LIMIT_BYTES

BOOK = Path(__file__).resolve().parent.parent / "book"
LIMIT_MB = MEMORY_LIMIT_BYTES / 2**20
CODE = (
    "import resource, sys, papermill; "
    "papermill.execute_notebook(sys.argv[1], sys.argv[2], parameters={'PROFILE': sys.argv[3]}, "
    "kernel_name='python3', cwd=sys.argv[4], progress_bar=False); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def run_chapter(notebook: Path, profile: str) -> tuple[float, float]:
    """(peak resident set of the chapter's kernel in MB, wall seconds)."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                CODE,
                str(notebook),
                os.path.join(folder, notebook.name),
                profile,
                str(notebook.parent),
            ],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{notebook.name} --profile {profile} failed: {done.stderr.strip().splitlines()[-1:]}")
    return int(done.stdout.split()[-1]) / 1024, seconds


def main(names: list[str] | None = None) -> list[dict]:
    profile = os.environ.get("AUTOPHAGY_BENCH_PROFILE", "default")
    rows = []
    for notebook in sorted(BOOK.glob("[0-9]*.ipynb")):
        if names and not any(name in notebook.name for name in names):
            continue
        peak, seconds = run_chapter(notebook, profile)
        rows.append(
            {
                "case": f"{notebook.stem} ({profile}): peak RSS",
                "MB": peak,
                "seconds": seconds,
                "target": f"< {LIMIT_MB:.0f} MB",
                "ok": peak < LIMIT_MB,
            }
        )
    return rows


if __name__ == "__main__":
    for row in main(sys.argv[1:] or None):
        print(
            f"{row['case']:<45} {row['MB']:8.0f} MB {row['seconds']:7.1f} s   "
            f"{row['target']}  {'ok' if row['ok'] else 'OVER'}"
        )
