"""What reusing generation 1 saves when mitigations share it (the arena, MNIST DDPM).

By default every arena run starts from the shipped starting model and trains no generation
1. Trained from scratch (``pretrained=false``), every run starts from a model fitted on the
same real data with the same random stream unless its screen draws random numbers first, so
``FirstFitCache`` trains generation 1 once and loads it for the others. Measured here on a small DDPM (the smoke profile's network
with ``steps`` training steps for generation 1), in an empty cache folder:

- ``cold``: a run that trains generation 1; ``warm``: the same run again, generation 1 loaded
  (everything else, generation 2 included, is the same work);
- ``arena``: how many of the arena's MNIST runs trained a generation 1, of how many.
"""  # noqa: E501

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from timing import timed

import autophagy
from autophagy.experiments import resolve_config
from autophagy.experiments.mitigation import arena_runs
from autophagy.experiments.registry import get

STEPS = 300


def main() -> list[dict]:
    with tempfile.TemporaryDirectory() as cache:
        os.environ["AUTOPHAGY_CACHE"] = cache  # the data and classifier caches are rebuilt here
        # generation 1 trained from scratch (pretrained=false), as the arena's MNIST runs may be
        common = dict(profile="smoke", progress=False, steps=STEPS, generations=2, pretrained=False, channels=8)
        autophagy.run("mnist-ddpm", mode="replace", **{**common, "steps": 1})  # classifier and data, not timed
        cold = timed(lambda: autophagy.run("mnist-ddpm", mode="web", **common))
        warm = timed(lambda: autophagy.run("mnist-ddpm", mode="web", **common))  # the same run, cached
        config = resolve_config("arena", profile="smoke", mnist="smoke")[1]["params"]
        runs = [params for modality, _, _, params in arena_runs(config) if modality == "mnist"]
        before = len(list(Path(cache, "fits").rglob("*.npz")))
        for params in runs:
            get("mnist-ddpm").run_records(params, seed=0, progress=False)
        trained = len(list(Path(cache, "fits").rglob("*.npz"))) - before
    del os.environ["AUTOPHAGY_CACHE"]
    return [
        {"case": f"DDPM run, generation 1 trained ({STEPS} steps)", "seconds": cold},
        {"case": "same run, generation 1 loaded from the cache", "seconds": warm},
        {"case": "saving per run that shares generation 1", "seconds": cold - warm},
        {"case": f"arena MNIST runs that trained a generation 1, of {len(runs)}", "count": trained},
    ]


if __name__ == "__main__":
    import pandas as pd

    print(pd.DataFrame(main()).to_string(index=False))
