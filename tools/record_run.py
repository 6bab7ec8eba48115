"""Record a run too long for a chapter's live execution, for the chapter to show beside it.

``python tools/record_run.py NAME EXPERIMENT [--profile P] [--seed S] [--set KEY=VALUE ...]``
runs the experiment with ``autophagy run`` into a scratch folder (resumable: give the same
command again after an interruption) and copies what a reader needs, and nothing heavy, into
the package (``src/autophagy/recorded/NAME/``, read by :mod:`autophagy.recorded`):
``metrics.parquet``, ``config.json`` and the saved samples. With ``--grid KEY=V1,V2,...``
(and ``--seeds N``) it records a sweep instead (``autophagy sweep`` with one worker): its
records, one row per cell, seed, generation and replicate, and a ``config.json`` holding the
grid and the parameters every cell shares. ``RECORD.json`` beside them says how
the run was made (the command, wall time, hardware, package and library versions) and holds
each file's SHA-256; ``tests/test_recorded.py`` checks both. Checkpoints (model weights) and
figures stay in the scratch folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDED = ROOT / "src" / "autophagy" / "recorded"
KEPT = ("metrics.parquet", "config.json")
KEPT_FOLDERS = ("samples",)


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("autophagy", "torch", "transformers", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sweep_config(folder: Path) -> dict:
    """A recorded sweep's config: its spec (experiment, profile, grid, seeds, settings) and the
    parameters every cell shares, resolved as the sweep's cells resolve them."""
    from autophagy.experiments import resolve_config

    spec = json.loads((folder / "sweep.json").read_text())
    params = resolve_config(spec["experiment"], spec["profile"], 0, **spec["settings"])[1]["params"]
    shared = {k: v for k, v in params.items() if k not in spec["grid"]}
    return {
        "experiment": spec["experiment"],
        "profile": spec["profile"],
        "grid": spec["grid"],
        "seeds": spec["seeds"],
        "params": shared,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("experiment")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--seed", default="0")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...", help="record a sweep")
    parser.add_argument("--seeds", default="1", help="a sweep: seeds 0 .. N-1 for every grid point")
    args = parser.parse_args(argv)
    scratch = Path(os.environ.get("AUTOPHAGY_RECORD_SCRATCH", ROOT / "runs" / "recording")) / args.name
    settings = [x for pair in args.set for x in ("--set", pair)]
    if args.grid:
        command = (
            [
                "autophagy",
                "sweep",
                args.experiment,
                "--out",
                str(scratch),
                "--profile",
                args.profile,
                "--seeds",
                args.seeds,
                "--workers",
                "1",
            ]
            + [x for g in args.grid for x in ("--grid", g)]
            + settings
        )
    else:
        command = [
            "autophagy",
            "run",
            args.experiment,
            "--out",
            str(scratch),
            "--profile",
            args.profile,
            "--seed",
            args.seed,
        ] + settings
    from autophagy.cli import main as cli
    from autophagy.models.device import describe

    start = time.perf_counter()
    code = cli(command[1:])
    seconds = time.perf_counter() - start
    if code != 0:
        return code
    target = RECORDED / args.name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    if args.grid:
        shutil.copy2(scratch / "metrics.parquet", target / "metrics.parquet")
        (target / "config.json").write_text(json.dumps(sweep_config(scratch), indent=2) + "\n")
    else:
        for name in KEPT:
            shutil.copy2(scratch / name, target / name)
    for folder in KEPT_FOLDERS:
        if (scratch / folder).is_dir():
            shutil.copytree(scratch / folder, target / folder)
    files = {str(p.relative_to(target)): sha256(p) for p in sorted(target.rglob("*")) if p.is_file()}
    record = {
        "name": args.name,
        "command": " ".join(command[:4] + ["DIR"] + command[5:]),
        "rebuild": f"python tools/record_run.py {' '.join(argv)}",
        "wall_seconds": round(seconds, 1),  # of this invocation (a resumed run: its last part)
        "hardware": describe(),
        "versions": versions(),
        "files": files,
    }
    (target / "RECORD.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"recorded {args.name}: {len(files)} files, {record['wall_seconds']:.0f} s on {record['hardware']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
