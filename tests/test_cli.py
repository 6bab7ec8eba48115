"""The command-line contract: list, run, show, and one clear line with exit 2 on bad input."""

import json
import subprocess
import sys

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
    for word in ("gaussian", "generations", "samples", "replicates", "estimator", "mode",
                 "real_fraction", "synthetic_ratio", "truncation", "method", "mean", "var", "w2"):
        assert word in out


def test_run_writes_metrics_config_and_figures_then_show_prints_a_table(tmp_path, capsys):
    out_dir = tmp_path / "run"
    code, _, _ = cli(capsys, "run", "gaussian", "--out", str(out_dir), "--profile", "smoke",
                     "--seed", "7", "--set", "generations=10", "--set", "replicates=20", "--quiet")
    assert code == 0
    frame = pd.read_csv(out_dir / "metrics.csv")
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
    before = (tmp_path / "r" / "metrics.csv").read_bytes()
    assert cli(capsys, *args)[0] == 0
    assert (tmp_path / "r" / "metrics.csv").read_bytes() == before


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
    (["fly"], "invalid choice"),
    (["show", "{d}"], "holds no run"),
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
    code, _, err = cli(capsys, "run", "gaussian", "--out", str(run_dir), "--profile", "smoke",
                       "--set", "samples=50", "--quiet")
    assert code == 2 and "samples" in err


def test_console_script_is_installed_and_exits_2_on_bad_input():
    exe = [sys.executable, "-m", "autophagy.cli"]
    done = subprocess.run(exe + ["run", "gaussian", "--out", "/nonexistent/x", "--set", "mode=bad"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1


def test_image_sample_grid_figure_is_written_atomically(tmp_path, monkeypatch):
    """figures/samples.png, drawn from a run's saved grids, goes through a temporary file and a
    rename, like every other file."""
    import numpy as np
    import pandas as pd

    from autophagy import files
    from autophagy.data.cache import save_npy
    from autophagy.engine.history import History
    from autophagy.runner import resolve_config, save_figures

    experiment, config = resolve_config("mnist-ddpm", "smoke")
    (tmp_path / "samples").mkdir()
    for g in range(3):
        save_npy(tmp_path / "samples" / f"generation_{g:02d}.npy", np.full((8, 28, 28), 40 * g, dtype=np.uint8))
    frame = pd.DataFrame({"generation": [0, 1, 2], "replicate": 0,
                          **{m: [0.1, 0.2, 0.3] for m in ("fid", "precision", "recall", "class_entropy")}})
    written, real = [], files.atomic_write
    monkeypatch.setattr(files, "atomic_write", lambda path, data: (written.append(path.name), real(path, data)))
    save_figures(experiment.figures(History(frame, config, tmp_path)), tmp_path / "figures")
    assert "samples.png" in written
    png = (tmp_path / "figures" / "samples.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["metrics.png", "samples.png"]  # no temporary file left


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
    code = ("import autophagy.sweeps, autophagy.runner, autophagy; "
            "from autophagy import run, sweep, ParameterError; "
            "assert callable(run) and callable(sweep) and issubclass(ParameterError, Exception); "
            "assert autophagy.sweep is autophagy.sweeps.sweep and autophagy.run is autophagy.runner.run")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
