"""Every registered experiment, as it is added: runs offline, gives the same bytes for the same
seed, and resumes after a kill with the bytes of an uninterrupted run."""

from __future__ import annotations

import json
import socket
import warnings
from pathlib import Path

import pytest
from reliability_kit import EXPERIMENTS, Killed, assert_clean, cli, injector, saved_generation

import autophagy
from autophagy.runs import store as rundir


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
