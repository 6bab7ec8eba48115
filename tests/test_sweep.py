"""``autophagy sweep`` on a real Dask LocalCluster: a sweep's records are those of the same
cells run one by one, it survives a killed worker and a killed client, one client at a time,
and bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import autophagy
from autophagy.cli import main
from autophagy.sweeps import sweep

SRC = str(Path(autophagy.__file__).parents[1])
GRID = {"mode": ["replace", "fresh"], "real_fraction": [0.1, 0.3]}
# a Gaussian cell that draws its samples: long enough to be interrupted, a second or two
SLOW = {"method": "sample", "samples": 2000, "replicates": 40, "generations": 60}

pytestmark = pytest.mark.slow


def cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def sweep_argv(out: Path, *extra: str) -> list[str]:
    return [
        "sweep",
        "gaussian",
        "--out",
        str(out),
        "--profile",
        "smoke",
        "--grid",
        "mode=replace,fresh",
        "--grid",
        "real_fraction=0.1,0.3",
        "--seeds",
        "2",
        "--workers",
        "2",
        "--quiet",
        *extra,
    ]


def slow_sets() -> list[str]:
    return [arg for key, value in SLOW.items() for arg in ("--set", f"{key}={value}")]


def spawn(argv: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC, "AUTOPHAGY_SAVE_EVERY": "0"}
    return subprocess.Popen(
        [sys.executable, "-m", "autophagy.cli", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_for_finished_cells(out: Path, count: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        try:
            if json.loads((out / "manifest.json").read_text())["cells_finished"] >= count:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} cells finished in {timeout} s")


def test_sweep_records_equal_the_same_cells_run_one_by_one(tmp_path):
    result = sweep("gaussian", tmp_path / "sweep", GRID, seeds=2, profile="smoke", workers=2, progress=False)
    cells = result.spec.cells()
    assert len(cells) == 8 and result.manifest["finished"]
    for cell in cells:
        alone = autophagy.run(
            "gaussian",
            out=tmp_path / "alone" / cell.name,
            profile="smoke",
            seed=cell.seed,
            progress=False,
            **cell.values,
        )
        assert (tmp_path / "alone" / cell.name / "metrics.parquet").read_bytes() == (
            tmp_path / "sweep" / "cells" / cell.name / "metrics.parquet"
        ).read_bytes()
        mine = result.frame
        for key, value in {**cell.values, "seed": cell.seed}.items():
            mine = mine[mine[key] == value]
        pd.testing.assert_frame_equal(
            mine.drop(columns=[*GRID, "seed"]).reset_index(drop=True),
            alone.frame.reset_index(drop=True),
            check_dtype=False,
        )
    assert sorted(p.name for p in (tmp_path / "sweep" / "figures").iterdir())  # a figure per grid key


def test_a_killed_worker_loses_nothing(tmp_path):
    from distributed import Client, LocalCluster

    clean = sweep("gaussian", tmp_path / "clean", GRID, seeds=1, profile="smoke", workers=2, progress=False, **SLOW)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", scheduler_port=0, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = list(client.run(os.getpid).values())
        proc = spawn(
            [
                "sweep",
                "gaussian",
                "--out",
                str(tmp_path / "killed"),
                "--profile",
                "smoke",
                "--grid",
                "mode=replace,fresh",
                "--grid",
                "real_fraction=0.1,0.3",
                "--quiet",
                "--scheduler",
                cluster.scheduler_address,
                *slow_sets(),
            ]
        )
        while not (tmp_path / "killed" / "cells").is_dir() or not any(
            (tmp_path / "killed" / "cells").glob("*/manifest.json")
        ):
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        os.kill(pids[0], signal.SIGKILL)  # the nanny restarts it; the scheduler retries its task
        assert proc.wait(timeout=300) == 0, proc.stderr.read().decode()
    assert (tmp_path / "killed" / "metrics.parquet").read_bytes() == (
        tmp_path / "clean" / "metrics.parquet"
    ).read_bytes()
    assert clean.manifest["finished"]


def test_a_killed_client_resumes_to_the_same_record_and_a_second_client_is_refused(tmp_path):
    sweep("gaussian", tmp_path / "clean", GRID, seeds=2, profile="smoke", workers=2, progress=False, **SLOW)
    out = tmp_path / "killed"
    proc = spawn(sweep_argv(out, *slow_sets()))
    wait_for_finished_cells(out, 1, proc)
    code, err = cli(sweep_argv(out, *slow_sets()))  # while the first client runs
    assert code == 2 and err.count("\n") == 1 and "another client" in err
    os.killpg(proc.pid, signal.SIGKILL)  # the client and its local workers
    proc.wait()
    manifest = json.loads((out / "manifest.json").read_text())
    assert not manifest["finished"] and 1 <= manifest["cells_finished"] < 8
    assert cli(sweep_argv(out, *slow_sets()))[0] == 0
    assert (out / "metrics.parquet").read_bytes() == (tmp_path / "clean" / "metrics.parquet").read_bytes()


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--grid", "nosuch=1,2"], "unknown grid key"),
        (["--grid", "real_fraction="], "empty value"),
        (["--grid", "real_fraction=0.1,1.5"], "real_fraction"),
        (["--grid", "samples=10,-3"], "samples"),
        (["--scheduler", "tcp://127.0.0.1:9"], "cannot be reached"),
    ],
)
def test_bad_sweep_input_is_one_line_exit_2_and_writes_nothing(tmp_path, argv, words):
    out = tmp_path / "sweep"
    code, err = cli(["sweep", "gaussian", "--out", str(out), "--profile", "smoke", "--quiet", *argv])
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert not out.exists()


def test_a_folder_holding_another_sweep_is_refused_and_left_as_it_was(tmp_path):
    out = tmp_path / "sweep"
    assert (
        cli(
            [
                "sweep",
                "gaussian",
                "--out",
                str(out),
                "--profile",
                "smoke",
                "--grid",
                "mode=replace,fresh",
                "--workers",
                "1",
                "--quiet",
            ]
        )[0]
        == 0
    )
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".lock"}
    code, err = cli(
        [
            "sweep",
            "gaussian",
            "--out",
            str(out),
            "--profile",
            "smoke",
            "--grid",
            "mode=replace,accumulate",
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert code == 2 and err.count("\n") == 1 and "another sweep" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".lock"} == before


# -- the sweeps and the arena on the same executor -----------------------------------------

ARENA_SMOKE = [
    "--profile",
    "smoke",
    "--quiet",
    "--set",
    "generations=2",
    "--set",
    "text_samples=100",
    "--set",
    "gaussian_replicates=20",
]


def test_the_arena_on_two_workers_writes_the_bytes_it_writes_in_one_process(tmp_path):
    assert cli(["run", "arena", "--out", str(tmp_path / "here"), *ARENA_SMOKE])[0] == 0
    code, err = cli(["run", "arena", "--out", str(tmp_path / "spread"), "--workers", "2", *ARENA_SMOKE])
    assert code == 0, err
    assert (tmp_path / "spread" / "metrics.parquet").read_bytes() == (
        tmp_path / "here" / "metrics.parquet"
    ).read_bytes()
    stages = sorted((tmp_path / "spread" / "stages").iterdir())
    config = json.loads((tmp_path / "spread" / "config.json").read_text())
    frame = pd.read_parquet(tmp_path / "here" / "metrics.parquet")
    assert len(stages) == frame.groupby(config["stage_columns"][:2]).ngroups  # one run directory per stage
    assert all(json.loads((s / "manifest.json").read_text())["finished"] for s in stages)


def test_a_sweep_interrupted_in_one_process_resumes_on_workers_to_the_same_bytes(tmp_path, monkeypatch):
    from autophagy.experiments import registry

    argv = ["run", "mixing-sweep", "--profile", "smoke", "--quiet", "--set", "replicates=20", "--set", "generations=5"]
    assert cli([*argv[:2], "--out", str(tmp_path / "whole"), *argv[2:]])[0] == 0
    gaussian = registry.get("gaussian")
    real, calls = gaussian.run_records, []

    def interrupted_at_the_third_stage(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setenv("AUTOPHAGY_SAVE_EVERY", "0")
    with monkeypatch.context() as patch:
        patch.setattr(gaussian, "run_records", interrupted_at_the_third_stage)
        code, err = cli([*argv[:2], "--out", str(tmp_path / "cut"), *argv[2:]])
    assert code != 0 and "interrupted" in err
    assert json.loads((tmp_path / "cut" / "manifest.json").read_text())["generation"] == 2  # two stages saved
    cut = tmp_path / "cut" / "stages"
    assert [json.loads((s / "manifest.json").read_text())["finished"] for s in sorted(cut.iterdir())[:2]] == [True] * 2
    code, err = cli([*argv[:2], "--out", str(tmp_path / "cut"), "--workers", "2", *argv[2:]])
    assert code == 0, err
    assert (tmp_path / "cut" / "metrics.parquet").read_bytes() == (tmp_path / "whole" / "metrics.parquet").read_bytes()
    # each stage is the same run directory, whether it ran here or on a worker
    stages = sorted(
        p.relative_to(tmp_path / "whole") for p in (tmp_path / "whole" / "stages").glob("*/metrics.parquet")
    )
    assert stages == sorted(p.relative_to(tmp_path / "cut") for p in cut.glob("*/metrics.parquet")) and stages
    assert all((tmp_path / "cut" / s).read_bytes() == (tmp_path / "whole" / s).read_bytes() for s in stages)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["run", "gaussian", "--workers", "2"], "one loop"),
        (["run", "arena", "--workers", "0"], "--workers"),
        (["run", "arena", "--scheduler", "tcp://127.0.0.1:9"], "cannot be reached"),
    ],
    ids=["workers-for-one-loop", "zero-workers", "unreachable-scheduler"],
)
def test_bad_executor_input_for_run_is_one_line_exit_2_and_writes_nothing(tmp_path, argv, words):
    out = tmp_path / "run"
    code, err = cli([*argv, "--out", str(out), "--profile", "smoke", "--quiet"])
    assert code == 2 and len(err.strip().splitlines()) == 1 and words in err, err
    assert not out.exists()
