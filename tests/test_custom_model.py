"""README's "Bring your own model" example: its Laplace model runs through the loop and behaves.

The tests run the README's code block itself, so the example cannot drift from what works.
"""

import math
from pathlib import Path

import numpy as np
import pytest

from autophagy import LoopSettings, LoopSpec, run_loop
from autophagy.book.claims import TOLERANCE

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(scope="module")
def example():
    text = README.read_text().split("## Bring your own model", 1)[1]
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec(compile(code, str(README), "exec"), scope)  # noqa: S102 (the README's own example)
    return scope


def test_the_example_records_one_row_per_generation_and_replicate(example):
    records, settings = example["records"], example["settings"]
    assert len(records) == (settings.generations + 1) * settings.replicates
    assert {"generation", "replicate", "train_size", "real_share", "loc", "scale"} <= set(records.columns)


def test_replacing_the_data_shrinks_the_laplace_scale(example):
    """Per replicate, the last generation's scale minus the first's: its mean is below zero by
    more than the claims' tolerance in standard errors."""
    wide = example["records"].pivot(index="generation", columns="replicate", values="scale")
    change = (wide.iloc[-1] - wide.loc[1]).to_numpy()
    se = change.std(ddof=1) / math.sqrt(change.size)
    assert change.mean() < -TOLERANCE * se


def test_the_first_fit_on_real_data_finds_the_true_scale(example):
    """Generation 1 is fitted on real Laplace(0, 1) samples: its mean scale is 1 within the
    tolerance in standard errors (n = 2000: the estimator's O(1/n) bias is a fraction of one)."""
    replicates, n = 400, 2000
    spec = LoopSpec(
        make_model=lambda: example["Laplace"](replicates),
        real=lambda size, rng: rng.laplace(size=(replicates, size)),
        metrics=lambda model, step: {"scale": model.scale},
        truth=example["Laplace"](replicates),
    )
    records = run_loop(spec, LoopSettings(generations=1, samples=n, replicates=replicates), progress=False)
    scale = records.loc[records.generation == 1, "scale"].to_numpy()
    se = scale.std(ddof=1) / math.sqrt(scale.size)
    assert abs(scale.mean() - 1.0) < TOLERANCE * se


def test_the_example_model_accumulates_and_resumes_like_a_built_in_one(example, tmp_path):
    """In accumulate mode a run stopped after 3 generations and resumed gives the same records
    as one uninterrupted run (the model's state_dict is all the loop saves of it)."""
    from autophagy.runs.store import RunDir

    replicates = 50
    spec = LoopSpec(
        make_model=lambda: example["Laplace"](replicates),
        real=lambda size, rng: rng.laplace(size=(replicates, size)),
        metrics=lambda model, step: {"scale": model.scale},
        truth=example["Laplace"](replicates),
    )
    config = {"experiment": "laplace", "params": {}, "seed": 0}

    def settings(generations):
        return LoopSettings(generations=generations, samples=40, mode="accumulate", replicates=replicates)

    whole = run_loop(spec, settings(6), progress=False)
    with RunDir(tmp_path / "run", config) as store:
        run_loop(spec, settings(3), store=store, progress=False)
    with RunDir(tmp_path / "run", config) as store:
        resumed = run_loop(spec, settings(6), store=store, progress=False)
    assert np.allclose(
        resumed.sort_values(["generation", "replicate"])["scale"].to_numpy(),
        whole.sort_values(["generation", "replicate"])["scale"].to_numpy(),
    )
    assert resumed["train_size"].max() == 6 * 40
