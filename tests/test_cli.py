"""The command-line contract: list, run, show, export, and one clear line with exit 2 on bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from autophagy.cli import main


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_every_parameter_and_column(capsys):
    code, out, _ = cli(capsys, "list")
    assert code == 0
    for word in (
        "gaussian",
        "generations",
        "samples",
        "replicates",
        "estimator",
        "mode",
        "real_fraction",
        "synthetic_ratio",
        "truncation",
        "method",
        "mean",
        "var",
        "w2",
    ):
        assert word in out


def test_run_writes_metrics_config_and_figures_then_show_prints_a_table(tmp_path, capsys):
    out_dir = tmp_path / "run"
    code, _, _ = cli(
        capsys,
        "run",
        "gaussian",
        "--out",
        str(out_dir),
        "--profile",
        "smoke",
        "--seed",
        "7",
        "--set",
        "generations=10",
        "--set",
        "replicates=20",
        "--quiet",
    )
    assert code == 0
    frame = pd.read_parquet(out_dir / "metrics.parquet")
    assert {"generation", "replicate", "mean", "var", "w2"} <= set(frame.columns)
    assert len(frame) == 11 * 20
    assert frame.loc[frame.generation == 0, ["mean", "w2"]].abs().max().max() == 0
    assert (frame.loc[frame.generation == 0, "var"] == 1).all()
    config = json.loads((out_dir / "config.json").read_text())
    assert config["experiment"] == "gaussian" and config["seed"] == 7
    assert config["params"]["generations"] == 10 and "autophagy_version" in config
    assert sorted(p.name for p in (out_dir / "figures").iterdir()) == ["mean.png", "variance.png", "w2.png"]
    code, out, _ = cli(capsys, "show", str(out_dir))
    assert code == 0 and "var mean" in out and "generation" in out


def test_rerunning_a_finished_run_changes_nothing(tmp_path, capsys):
    args = ["run", "gaussian", "--out", str(tmp_path / "r"), "--profile", "smoke", "--set", "generations=5", "--quiet"]
    assert cli(capsys, *args)[0] == 0
    before = (tmp_path / "r" / "metrics.parquet").read_bytes()
    assert cli(capsys, *args)[0] == 0
    assert (tmp_path / "r" / "metrics.parquet").read_bytes() == before


BAD = [
    (["run", "nosuch", "--out", "{d}"], "unknown experiment"),
    (["run", "gaussian", "--out", "{d}", "--set", "colour=red"], "unknown parameter"),
    (["run", "gaussian", "--out", "{d}", "--profile", "huge"], "unknown profile"),
    (["run", "gaussian", "--out", "{d}", "--set", "generations=0"], "generations"),
    (["run", "gaussian", "--out", "{d}", "--set", "samples=1"], "samples"),
    (["run", "gaussian", "--out", "{d}", "--set", "replicates=0"], "replicates"),
    (["run", "gaussian", "--out", "{d}", "--set", "real_fraction=0"], "real_fraction"),
    (["run", "gaussian", "--out", "{d}", "--set", "real_fraction=1.5"], "real_fraction"),
    (["run", "gaussian", "--out", "{d}", "--set", "truncation=0"], "truncation"),
    (["run", "gaussian", "--out", "{d}", "--set", "truncation=nan"], "truncation"),
    (["run", "gaussian", "--out", "{d}", "--set", "mode=sideways"], "mode"),
    (["run", "gaussian", "--out", "{d}", "--set", "generations=ten"], "generations"),
    (["run", "gaussian", "--out", "{d}", "--set", "novalue"], "KEY=VALUE"),
    (["run", "gaussian", "--out", "{d}", "--seed", "-1"], "seed"),
    (["run", "gaussian", "--out", "{d}", "--set", "mode=accumulate-subsample"], "method=sample"),
    (["run", "gaussian", "--out", "{d}", "--set", "method=sample", "--set", "samples=100000000"], "GiB"),
    (["run", "gaussian"], "--out"),
    (["run", "rare-class", "--out", "{d}", "--set", "share=1"], "share"),
    (["run", "rare-class", "--out", "{d}", "--set", "share=0.001"], "fewer than one minority example"),
    (["run", "mnist-ddpm", "--out", "{d}", "--set", "rare_class=12"], "rare_class"),
    (["run", "colored-mnist-ddpm", "--out", "{d}", "--set", "group_share=0"], "group_share"),
    (["run", "colored-mnist-ddpm", "--out", "{d}", "--set", "group_share=1"], "group_share"),
    (["run", "colored-mnist-ddpm", "--out", "{d}", "--set", "samples=4"], "fewer than one example of a group"),
    (["run", "colored-mnist-ddpm", "--out", "{d}", "--set", "reparation=quota"], "reparation"),
    (["fly"], "invalid choice"),
    (["show", "{d}"], "holds no run"),
    (["export", "{d}"], "holds no run"),
    (["export", "{d}", "--format", "xlsx"], "--format"),
]


@pytest.mark.parametrize("argv, words", BAD, ids=[w for _, w in BAD])
def test_bad_input_gives_one_line_exit_2_and_writes_nothing(tmp_path, capsys, argv, words):
    target = tmp_path / "out"
    code, out, err = cli(capsys, *[a.format(d=target) for a in argv])
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("autophagy: error:") and words in lines[0]
    assert not target.exists()


def test_out_holding_another_experiment_or_settings_is_refused(tmp_path, capsys):
    run_dir = tmp_path / "r"
    assert cli(capsys, "run", "gaussian", "--out", str(run_dir), "--profile", "smoke", "--quiet")[0] == 0
    config = json.loads((run_dir / "config.json").read_text())
    config["experiment"] = "other"
    (run_dir / "config.json").write_text(json.dumps(config))
    before = sorted(p.name for p in run_dir.iterdir())
    code, _, err = cli(capsys, "run", "gaussian", "--out", str(run_dir), "--profile", "smoke", "--quiet")
    assert code == 2 and "experiment 'other'" in err
    assert sorted(p.name for p in run_dir.iterdir()) == before


def test_changed_settings_in_an_existing_run_are_refused(tmp_path, capsys):
    run_dir = tmp_path / "r"
    assert cli(capsys, "run", "gaussian", "--out", str(run_dir), "--profile", "smoke", "--quiet")[0] == 0
    code, _, err = cli(
        capsys, "run", "gaussian", "--out", str(run_dir), "--profile", "smoke", "--set", "samples=50", "--quiet"
    )
    assert code == 2 and "samples" in err


def test_console_script_is_installed_and_exits_2_on_bad_input():
    exe = [sys.executable, "-m", "autophagy.cli"]
    done = subprocess.run(
        exe + ["run", "gaussian", "--out", "/nonexistent/x", "--set", "mode=bad"], capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1


def test_image_sample_grid_figure_is_written_atomically(tmp_path, monkeypatch):
    """figures/samples.png, drawn from a run's saved grids, goes through a temporary file and a
    rename, like every other file."""
    import numpy as np
    import pandas as pd

    from autophagy import files
    from autophagy.data.cache import save_npy
    from autophagy.experiments import resolve_config
    from autophagy.runs.history import History
    from autophagy.runs.runner import save_figures

    experiment, config = resolve_config("mnist-ddpm", "smoke")
    (tmp_path / "samples").mkdir()
    for g in range(3):
        save_npy(tmp_path / "samples" / f"generation_{g:02d}.npy", np.full((8, 28, 28), 40 * g, dtype=np.uint8))
    frame = pd.DataFrame(
        {
            "generation": [0, 1, 2],
            "replicate": 0,
            **{m: [0.1, 0.2, 0.3] for m in ("fid", "precision", "recall", "class_entropy")},
        }
    )
    written, real = [], files.atomic_write
    monkeypatch.setattr(files, "atomic_write", lambda path, data: (written.append(path.name), real(path, data)))
    save_figures(experiment.figures, History(frame, config, tmp_path), tmp_path / "figures")
    assert "samples.png" in written
    png = (tmp_path / "figures" / "samples.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == [
        "metrics.png",
        "samples.png",
    ]  # no temporary file left


@pytest.mark.parametrize("text, value", [("1e5", 100_000), ("2.5E3", 2_500), ("12", 12), ("1_000", 1_000)])
def test_integers_accept_whole_numbers_in_scientific_notation(text, value):
    from autophagy.params import integer

    assert integer("samples", 10, "", low=1, high=10**8).convert(text) == value


@pytest.mark.parametrize("text", ["1e-2", "1.5e0", "1e9", "1e", "nan"])
def test_integers_refuse_fractions_and_out_of_range_values_naming_the_bounds_in_full(text):
    from autophagy.params import ParameterError, integer

    with pytest.raises(ParameterError, match=r"\[1, 100000000\]"):
        integer("samples", 10, "", low=1, high=10**8).convert(text)


def test_the_public_names_stay_the_functions_once_their_modules_are_imported():
    code = (
        "import autophagy.sweeps, autophagy.runs.runner, autophagy; "
        "from autophagy import run, sweep, ParameterError; "
        "assert callable(run) and callable(sweep) and issubclass(ParameterError, Exception); "
        "assert autophagy.sweep is autophagy.sweeps.sweep and autophagy.run is autophagy.runs.runner.run"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _small_run(capsys, folder: Path) -> Path:
    args = [
        "run",
        "gaussian",
        "--out",
        str(folder),
        "--profile",
        "smoke",
        "--set",
        "generations=4",
        "--set",
        "replicates=15",
        "--quiet",
    ]
    assert cli(capsys, *args)[0] == 0
    return folder


def test_export_writes_a_csv_beside_the_record_whose_floats_read_back_exactly(tmp_path, capsys):
    folder = _small_run(capsys, tmp_path / "r")
    code, out, _ = cli(capsys, "export", str(folder), "--format", "csv")
    assert code == 0 and "metrics.csv" in out
    record = pd.read_parquet(folder / "metrics.parquet")
    exported = pd.read_csv(folder / "metrics.csv")
    pd.testing.assert_frame_equal(exported, record, check_exact=True)


def test_export_to_stdout_and_to_a_named_file_give_the_same_text(tmp_path, capsys):
    folder = _small_run(capsys, tmp_path / "r")
    code, printed, _ = cli(capsys, "export", str(folder), "--out", "-")
    assert code == 0
    assert cli(capsys, "export", str(folder), "--out", str(tmp_path / "table.csv"))[0] == 0
    assert (tmp_path / "table.csv").read_text() == printed
    assert not (folder / "metrics.csv").exists()


@pytest.mark.parametrize("damage", ["byte-flipped", "truncated"])
def test_export_of_a_damaged_record_gives_one_line_exit_2_and_writes_nothing(tmp_path, capsys, damage):
    folder = _small_run(capsys, tmp_path / "r")
    data = bytearray((folder / "metrics.parquet").read_bytes())
    if damage == "byte-flipped":
        data[len(data) // 2] ^= 1
    else:
        del data[len(data) // 2 :]
    (folder / "metrics.parquet").write_bytes(bytes(data))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, _, err = cli(capsys, "export", str(folder), "--out", str(tmp_path / "table.csv"))
    assert code == 2 and err.count("\n") == 1 and "damaged" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("out", ["missing-folder/table.csv", "."], ids=["folder-missing", "a-directory"])
def test_export_to_a_path_that_cannot_be_written_gives_one_line_exit_2(tmp_path, capsys, out):
    folder = _small_run(capsys, tmp_path / "r")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, _, err = cli(capsys, "export", str(folder), "--out", str(tmp_path / out))
    assert code == 2 and err.count("\n") == 1 and "--out" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


# A child that sends itself SIGINT when it first imports TRIGGER, then runs the command line
# as `python -m autophagy.cli` does: the interrupt falls while the command line starts.
_INTERRUPT_AT_IMPORT = """
import os, runpy, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal, even where the runner ignores SIGINT
trigger, marker = sys.argv[1], sys.argv[2]
assert trigger not in sys.modules, trigger
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == trigger:
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Interrupt())
sys.argv = ["autophagy", *sys.argv[3:]]
runpy.run_module("autophagy.cli", run_name="__main__")
"""


@pytest.mark.parametrize("trigger", ["argparse", "textwrap", "autophagy.params", "numpy", "autophagy.engine.loop"])
def test_ctrl_c_while_the_command_line_starts_is_one_line_and_exit_130(tmp_path, trigger):
    marker = tmp_path / "interrupted"
    argv = ["run", "gaussian", "--profile", "smoke", "--out", str(tmp_path / "r"), "--quiet"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1] / "src"))
    done = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_AT_IMPORT, trigger, str(marker), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert marker.exists(), done.stderr  # the interrupt was sent
    assert done.returncode == 130
    assert done.stderr.splitlines() == ["autophagy: interrupted; run the same command again to resume"]


@pytest.mark.parametrize("symbols", [2, 9, 10, 50, 999, 5000])
def test_categorical_tail_rank_defaults_below_any_symbol_count(symbols):
    from autophagy.experiments import resolve_config

    for profile in ("smoke", "default", "full"):
        params = resolve_config("categorical", profile, 0, symbols=str(symbols))[1]["params"]
        assert 1 <= params["tail_rank"] < symbols
    assert (
        resolve_config("categorical", "default", 0, symbols=str(symbols), tail_rank="1")[1]["params"]["tail_rank"] == 1
    )


def test_categorical_with_few_symbols_runs_from_the_command_line(tmp_path, capsys):
    code, _, err = cli(
        capsys,
        "run",
        "categorical",
        "--out",
        str(tmp_path / "r"),
        "--profile",
        "smoke",
        "--set",
        "symbols=5",
        "--set",
        "generations=1",
        "--set",
        "replicates=3",
        "--quiet",
    )
    assert code == 0, err
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["params"]["tail_rank"] < config["params"]["symbols"]


def test_integer_parameters_in_scientific_notation_are_accepted_by_the_command_line(tmp_path, capsys):
    code, _, err = cli(
        capsys,
        "run",
        "gaussian",
        "--out",
        str(tmp_path / "r"),
        "--profile",
        "smoke",
        "--set",
        "samples=1e3",
        "--set",
        "generations=1",
        "--set",
        "replicates=2",
        "--quiet",
    )
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "config.json").read_text())["params"]["samples"] == 1000


def _parameter_lines(out: str) -> list[str]:
    return [
        line
        for line in out.splitlines()
        if line.startswith("    ") and " default " in line and not line.startswith("    default ")
    ]


def test_list_aligns_every_column_to_the_longest_entry_of_the_listing(capsys):
    code, out, _ = cli(capsys, "list")
    lines = _parameter_lines(out)
    assert code == 0 and lines
    defaults, allowed = set(), set()
    for line in lines:
        start = line.index(" default ") + len(" default ")
        value = line[start:].split(" ", 1)[0]
        gap = line[start + len(value) :]
        defaults.add(start)
        allowed.add(start + len(value) + len(gap) - len(gap.lstrip(" ")))
    assert len(defaults) == 1 and len(allowed) == 1
    assert "symbols//10" in out  # a derived default is written as its rule


def test_list_of_an_experiment_without_parameters_or_profiles_says_so(capsys, monkeypatch):
    from types import SimpleNamespace

    from autophagy import experiments

    bare = SimpleNamespace(
        name="bare", summary="nothing to set", params=[], profiles={}, loop_keys=False, columns={"value": "a value"}
    )
    monkeypatch.setattr(experiments, "get", lambda name: bare)
    code, out, _ = cli(capsys, "list", "bare")
    assert code == 0
    assert "  parameters: none" in out and "  profiles: none" in out
    assert not [line for line in out.splitlines() if line.rstrip().endswith(":")]
