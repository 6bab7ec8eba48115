"""Peak memory (resident set) of each registered experiment's default profile, in MB.

Each run happens in a fresh child process (``autophagy run NAME --profile default``) that
prints its own ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (KiB on Linux) when it ends, so
the peak is that run's alone (RUSAGE_CHILDREN would keep the largest child's so far). ``python benchmarks/bench_memory.py gaussian`` measures only
the experiments named.
"""  # noqa: E501

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from autophagy.experiments import all_experiments
from autophagy.experiments.budget import MEMORY_LIMIT_BYTES

LIMIT_MB = MEMORY_LIMIT_BYTES / 2**20


def peak_rss_mb(name: str, profile: str = "default") -> tuple[float, float]:
    """(peak resident set in MB, wall seconds) of one run in a child process."""
    with tempfile.TemporaryDirectory() as folder:
        code = (
            "import resource, sys; from autophagy.cli import main; code = main(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)"
        )
        start = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                "run",
                name,
                "--out",
                os.path.join(folder, "run"),
                "--profile",
                profile,
                "--quiet",
            ],
            capture_output=True,
            text=True,
            env=dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1"),
        )
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{name} --profile {profile} failed: {done.stderr.strip().splitlines()[-1:]}")
    return int(done.stdout.split()[-1]) / 1024, seconds


def main(names: list[str] | None = None) -> list[dict]:
    rows = []
    for experiment in all_experiments():
        if names and experiment.name not in names:
            continue
        peak, seconds = peak_rss_mb(experiment.name)
        rows.append(
            {
                "case": f"{experiment.name} --profile default: peak RSS",
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
            f"{row['case']:<50} {row['MB']:8.0f} MB {row['seconds']:7.1f} s   "
            f"{row['target']}  {'ok' if row['ok'] else 'OVER'}"
        )
