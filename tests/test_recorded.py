"""Recorded runs match their records, and their configuration still resolves today."""

from __future__ import annotations

import itertools
import shutil

import numpy as np
import pytest

from autophagy import recorded
from autophagy.data import DataError
from autophagy.experiments import resolve_config
from autophagy.runs.history import KEYS

NAMES = recorded.names()


# the evidence chapters 3 to 5 read: each loop beside its real-only control, and the anchors' protocols
EVIDENCE = (
    [
        f"mnist-ddpm-{arm}"
        for arm in ("replace", "fresh", "accumulate", "control", "select", "selfcorrect", "rare", "rare-control")
    ]
    + [f"fashion-gan-{arm}" for arm in ("psi1", "psi0.7", "control")]
    + [f"colored-mnist-{arm}" for arm in ("replace", "stratified", "fresh", "control")]
    + [f"gpt-{arm}" for arm in ("replace", "fresh", "accumulate", "control")]
    + [f"shumailov-{arm}" for arm in ("replace", "fresh", "control", "greedy", "t0.7", "t1", "t1.3")]
    + ["ngram-replace", "ngram-t1", "ngram-t0.7"]
)
MIN_REPLICATES = 5  # a claim about a loop rests on at least five independent replicates, or on fewer
# with Student-t intervals where one session's CPU could not afford five: Shumailov et al.'s 10% arm
# runs beam search on 90% of every generation's blocks
FEWER = {"shumailov-fresh": 3}


def test_the_smollm2_loop_is_recorded_in_both_arms():
    assert {"smollm2-replace", "smollm2-fresh"} <= set(NAMES)


@pytest.mark.parametrize("name", EVIDENCE)
def test_the_chapters_evidence_is_recorded_with_enough_replicates(name):
    assert name in NAMES
    run = recorded.load(name)
    assert run.params["replicates"] >= FEWER.get(name, MIN_REPLICATES)
    assert sorted(run.frame["replicate"].unique()) == list(range(run.params["replicates"]))


def test_evidence_names_the_scale_the_cost_and_the_hardware():
    runs = [recorded.load(name) for name in ("smollm2-replace", "smollm2-fresh")]
    line = recorded.evidence(runs)
    hours = sum(r.record["wall_seconds"] for r in runs) / 3600
    replicates = "/".join(str(n) for n in sorted({r.params["replicates"] for r in runs}))
    plural = "" if replicates == "1" else "s"
    assert line.startswith(
        f"recorded: {replicates} replicate{plural} x 4 generations, 2 arms, made by tools/record_run.py in "
    )
    assert (f"{hours:.1f} h" if hours >= 1 else f"{hours * 60:.0f} min") in line and runs[0].record["hardware"] in line


RUNS = [name for name in NAMES if "grid" not in recorded.load(name).config]
SWEEPS = [name for name in NAMES if name not in RUNS]


@pytest.mark.parametrize("name", RUNS)
def test_recorded_files_match_their_checksums_and_the_config_still_resolves(name):
    run = recorded.load(name)
    config = run.config
    params = resolve_config(config["experiment"], config["profile"], config["seed"], **config["params"])[1]["params"]
    # a parameter added since the recording resolves to its default, which leaves the run as it was
    assert {key: params[key] for key in config["params"]} == config["params"]
    assert set(KEYS) <= set(run.frame.columns)
    assert sorted(run.frame["generation"].unique()) == list(range(config["params"]["generations"] + 1))
    assert run.record["command"].startswith(f"autophagy run {config['experiment']} ")
    assert run.record["wall_seconds"] > 0 and run.record["hardware"]


@pytest.mark.parametrize("name", SWEEPS)
def test_a_recorded_sweep_holds_every_cell_and_seed_and_each_cell_still_resolves(name):
    run = recorded.load(name)
    config, frame = run.config, run.frame
    grid = config["grid"]
    cells = frame.groupby([*grid, "seed"]).size()
    assert len(cells) == config["seeds"] * np.prod([len(values) for values in grid.values()])
    assert (cells == cells.iloc[0]).all()  # every cell ran every generation and replicate
    for values in itertools.product(*grid.values()):
        cell = dict(zip(grid, values))
        params = resolve_config(config["experiment"], config["profile"], 0, **config["params"], **cell)[1]["params"]
        assert {key: params[key] for key in config["params"]} == config["params"]
    assert sorted(frame["generation"].unique()) == list(range(config["params"]["generations"] + 1))
    assert run.record["command"].startswith(f"autophagy sweep {config['experiment']} ")
    assert run.record["wall_seconds"] > 0 and run.record["hardware"]


def test_a_changed_recorded_file_is_one_line_naming_the_command_that_re_makes_it(tmp_path):
    name = NAMES[0]
    shutil.copytree(recorded.FOLDER / name, tmp_path / name)
    with open(tmp_path / name / "metrics.parquet", "ab") as handle:
        handle.write(b"\n")
    with pytest.raises(DataError) as err:
        recorded.load(name, tmp_path)
    assert "\n" not in str(err.value) and "tools/record_run.py" in str(err.value)
