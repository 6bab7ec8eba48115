"""What the reliability tests share: a quick Gaussian run through the command line, a kill
injected into a save, and the registered experiments."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import autophagy
from autophagy.cli import main
from autophagy.experiments import all_experiments
from autophagy.runs import store as rundir

SRC = str(Path(autophagy.__file__).parents[1])
# A Gaussian loop that draws its samples: a few seconds when it saves every generation.
GAUSS = [
    "--profile",
    "smoke",
    "--seed",
    "3",
    "--quiet",
    "--set",
    "method=sample",
    "--set",
    "samples=400",
    "--set",
    "replicates=30",
]


def gaussian_argv(out: Path, generations: int) -> list[str]:
    return ["run", "gaussian", "--out", str(out), *GAUSS, "--set", f"generations={generations}"]


def cli(argv: list[str]) -> tuple[int, str]:
    """Exit status and stderr of the command line run in this process."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def saved_generation(folder: Path) -> int:
    try:
        return json.loads((folder / "manifest.json").read_text())["generation"]
    except (OSError, ValueError, KeyError):
        return 0


def assert_clean(folder: Path) -> None:
    """One checkpoint and no temporary file left behind."""
    names = sorted(p.name for p in folder.iterdir())
    assert [n for n in names if n.startswith("checkpoint")] == [
        json.loads((folder / "manifest.json").read_text())["checkpoint"]
    ]
    assert not [n for n in names if ".tmp" in n]


class Killed(BaseException):
    """Stands for SIGKILL inside this process: nothing after it runs (the lock is released)."""


def temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def injector(stage: str, at: int, folder: Path | None = None):
    """An ``atomic_write`` that dies at the ``at``-th save, at ``stage`` of that save (counting
    only the saves of the run directory ``folder`` when given, not those of its stages)."""
    real = rundir.atomic_write
    saves = {"n": 0}

    def write(path: Path, data: bytes) -> None:
        if folder is not None and path.parent != folder:
            return real(path, data)
        is_checkpoint = path.name.startswith("checkpoint")
        saves["n"] += is_checkpoint
        if saves["n"] != at:
            return real(path, data)
        if stage == "checkpoint-half-written" and is_checkpoint:
            temporary_name(path).write_bytes(data[: len(data) // 2])
            raise Killed
        if stage == "checkpoint-renamed" and is_checkpoint:
            real(path, data)
            raise Killed
        if stage in ("rows-appended", "torn-row") and path.name == "manifest.json":
            raise Killed
        if stage == "manifest-half-written" and path.name == "manifest.json":
            temporary_name(path).write_bytes(data[: len(data) // 2])
            raise Killed
        if stage == "manifest-renamed" and path.name == "manifest.json":
            real(path, data)
            raise Killed
        return real(path, data)

    return write


EXPERIMENTS = all_experiments()


NAMES = [e.name for e in EXPERIMENTS]


def entries(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("autophagy: error:"), err
    return lines[0]


_RUNS: dict[str, Path] = {}


def finished_run(tmp_path: Path) -> Path:
    """A copy of a small finished Gaussian run (computed once)."""
    import shutil

    if "run" not in _RUNS:
        assert cli(gaussian_argv(tmp_path / "finished", 3))[0] == 0
        _RUNS["run"] = tmp_path / "finished"
    copy = tmp_path / "copy"
    shutil.copytree(_RUNS["run"], copy)
    return copy
