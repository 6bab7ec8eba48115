"""Run every benchmark script (benchmarks/bench_*.py) and print one table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd


def main() -> int:
    frames = []
    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"running {path.name} ...", file=sys.stderr, flush=True)
        frame = pd.DataFrame(module.main())
        frame.insert(0, "benchmark", path.stem.removeprefix("bench_"))
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    table.to_csv(out / "latest.csv", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
