"""The sweeps and the arena draw their figures like every other experiment."""

import numpy as np
import pandas as pd
import pytest

from autophagy import run
from autophagy.experiments.mitigation import HIGHER_IS_BETTER, arena_figures
from autophagy.runs.history import History


@pytest.mark.parametrize(
    "name, figure", [("mixing-sweep", "by-real_fraction"), ("curation-sweep", "by-reward_fraction-verifier_accuracy")]
)
def test_a_mitigation_sweep_run_into_a_directory_writes_its_figure(tmp_path, name, figure):
    run(name, out=tmp_path / name, profile="smoke", progress=False, generations=3, replicates=20)
    assert (tmp_path / name / "figures" / f"{figure}.png").read_bytes().startswith(b"\x89PNG")


def test_the_arena_ranks_each_modality_best_first():
    rng = np.random.default_rng(0)
    rows = [
        {"modality": "text", "mitigation": m, "metric": metric, "generation": 3, "replicate": r, "value": rng.random()}
        for m in ("none", "mix", "detector")
        for metric in ("perplexity_real", "distinct_2")
        for r in range(3)
    ]
    fig = arena_figures(History(pd.DataFrame(rows), {"params": {}}))["ranking"]
    for ax in fig.axes:
        metric = ax.get_title().split(": ")[1]
        widths = [bar.get_width() for bar in ax.patches]
        # bars are drawn top to bottom (the y axis is inverted): the best first
        assert widths == sorted(widths, reverse=metric in HIGHER_IS_BETTER)
        assert sorted(label.get_text() for label in ax.get_yticklabels()) == ["detector", "mix", "none"]
