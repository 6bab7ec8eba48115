"""Runs survive kills at any moment and damaged files: a rerun resumes with the bytes of an
uninterrupted run; one writer at a time; a checkpoint is never unpickled."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from reliability_kit import (
    SRC,
    Killed,
    assert_clean,
    cli,
    entries,
    finished_run,
    gaussian_argv,
    injector,
    saved_generation,
    temporary_name,
)

from autophagy.runs import store as rundir
from autophagy.runs.store import RunDir

_REFERENCES: dict[int, bytes] = {}


def reference(tmp_path: Path, generations: int) -> bytes:
    """metrics.parquet of an uninterrupted run (computed once per size)."""
    if generations not in _REFERENCES:
        assert cli(gaussian_argv(tmp_path / "reference", generations))[0] == 0
        _REFERENCES[generations] = (tmp_path / "reference" / "metrics.parquet").read_bytes()
    return _REFERENCES[generations]


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


STAGES = [
    "checkpoint-half-written",
    "checkpoint-renamed",
    "rows-appended",
    "torn-row",
    "manifest-half-written",
    "manifest-renamed",
]


def killed_gaussian(out: Path, generations: int, stage: str, at: int, monkeypatch) -> list[str]:
    """The command line of a Gaussian run into ``out``, run until it is killed at ``stage`` of
    its ``at``-th save (every generation saves, for the rest of the test too)."""
    argv = gaussian_argv(out, generations)
    monkeypatch.setenv("AUTOPHAGY_SAVE_EVERY", "0")
    with monkeypatch.context() as patch:
        patch.setattr(rundir, "atomic_write", injector(stage, at=at))
        with pytest.raises(Killed):
            cli(argv)
    return argv


@pytest.mark.parametrize("stage", STAGES)
def test_kill_at_each_step_of_a_save_resumes_silently_with_identical_bytes(tmp_path, monkeypatch, stage):
    generations, out = 20, tmp_path / "run"
    argv = killed_gaussian(out, generations, stage, 7, monkeypatch)
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
        temporary_name(path).write_bytes(data[: len(data) // 2])  # the temporary file a SIGKILL leaves
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(rundir, "atomic_write", dies_writing_config)
        with pytest.raises(Killed):
            cli(argv)
    assert sorted(p.name for p in out.iterdir()) == sorted([".lock", temporary_name(out / "config.json").name])
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
    argv = killed_gaussian(out, generations, "manifest-renamed", 12, monkeypatch)
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


class Payload:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_checkpoint_holding_an_object_array_is_refused_without_running_code(tmp_path, monkeypatch):
    out, marker = tmp_path / "run", tmp_path / "code-ran"
    argv = killed_gaussian(out, 20, "manifest-renamed", 5, monkeypatch)
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
    killed_gaussian(out, 20, "rows-appended", 4, monkeypatch)  # saved 3 generations
    with open(out / "metrics.arrows", "ab") as handle:
        handle.write(b"\xff\xff\xff\xff\x10")
    assert not (out / "metrics.parquet").exists()
    before = entries(out)
    assert cli(["show", str(out)])[0] == 0
    assert sorted(History.load(out).frame["generation"].unique()) == [0, 1, 2, 3]
    assert entries(out) == before


def test_a_run_killed_between_writing_its_record_and_its_last_manifest_resumes_with_the_same_bytes(
    tmp_path, monkeypatch
):
    """The last save wrote metrics.parquet; the manifest still names the journal."""
    generations, out = 6, tmp_path / "run"
    argv = killed_gaussian(out, generations, "rows-appended", generations, monkeypatch)
    assert (out / "metrics.parquet").is_file() and json.loads((out / "manifest.json").read_text())[
        "records"
    ] == "metrics.arrows"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a kill is not damage: no warning
        assert cli(argv)[0] == 0
    assert (out / "metrics.parquet").read_bytes() == reference(tmp_path, generations)
    assert not (out / "metrics.arrows").exists()
    assert_clean(out)
