"""The memory limit: a configuration whose data would not fit is refused, with its estimate."""

from __future__ import annotations

import pytest
from reliability_kit import EXPERIMENTS, NAMES, cli, one_error_line

from autophagy.experiments import resolve_config


@pytest.mark.parametrize("name", ["mnist-ddpm", "fashion-gan"])
def test_image_runs_too_large_for_memory_are_refused_with_the_estimate(tmp_path, name):
    out = tmp_path / "out"
    code, err = cli(["run", name, "--out", str(out), "--set", "samples=100000000", "--quiet"])
    line = one_error_line(err)
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
    assert code == 2 and "GiB" in one_error_line(err) and not out.exists()


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=NAMES)
def test_every_profile_fits_the_memory_limit(experiment):
    for profile in experiment.profiles:
        resolve_config(experiment.name, profile)  # raises ParameterError when refused
