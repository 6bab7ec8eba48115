"""Time the toy loops (categorical, KDE, regression, GMM) against two references, side by side.

For each model, one configuration is run three ways in the same process:

- ``package``: the autophagy loop (replace mode, vectorised over replicates where the model
  allows);
- ``baseline``: a per-replicate Python loop as research notebooks write it (draw the N
  points, refit, repeat);
- ``raw draws``: only the random draws a plain loop needs (no fitting, no bookkeeping). The
  categorical loop can beat it: it stops drawing symbols that have vanished.

Then the categorical loop at the issue's scale: 1000 replicates, K = 1000 symbols, N = 1000
draws, 1000 generations (target: under 10 s).

Run: ``python benchmarks/bench_toys.py``. ``main()`` prints the table and returns its rows.
"""

from __future__ import annotations

import numpy as np
from sklearn.mixture import GaussianMixture
from timing import timed

import autophagy
from autophagy.engine.loop import LoopSettings, run_loop
from autophagy.experiments import resolve_config
from autophagy.models.categorical import zipf


def package(name: str, **params) -> float:
    """Seconds for the autophagy loop of experiment ``name`` (no run directory)."""
    _, config = resolve_config(name, "smoke", **params)
    cfg = config["params"]
    spec = autophagy.experiments.get(name).build(cfg)
    settings = LoopSettings(generations=cfg["generations"], samples=cfg["samples"], replicates=cfg["replicates"])
    return timed(lambda: run_loop(spec, settings, progress=False))


# -- the baselines: per-replicate loops, as a notebook writes them ----------------------------


def categorical_baseline(reps, k, n, gens, rng):
    p0 = zipf(k, 1.0)
    for _ in range(reps):
        p = p0
        for _ in range(gens):
            draws = rng.choice(k, size=n, p=p)
            p = np.bincount(draws, minlength=k) / n


def kde_baseline(reps, n, gens, h, rng):
    for _ in range(reps):
        data = rng.standard_normal(n)
        for _ in range(gens):
            data = rng.choice(data, size=n) + h * rng.standard_normal(n)


def regression_baseline(reps, d, rows, gens, rng):
    w_star = np.full(d, 1 / np.sqrt(d))
    for _ in range(reps):
        x = rng.standard_normal((rows, d))
        w = w_star
        for _ in range(gens):
            y = x @ w + rng.standard_normal(rows)
            w = np.linalg.lstsq(x, y, rcond=None)[0]


def gmm_baseline(reps, n, gens, rng):
    for _ in range(reps):
        x = np.concatenate([rng.normal(-2, 1, n // 2), rng.normal(2, 1, n - n // 2)])
        for _ in range(gens):
            em = GaussianMixture(2, random_state=int(rng.integers(2**31))).fit(x[:, None])
            x = em.sample(n)[0][:, 0]


# -- the raw draws: what any loop must at least pay for --------------------------------------


def categorical_raw(reps, k, n, gens, rng):
    p = np.tile(zipf(k, 1.0), (reps, 1))
    for _ in range(gens):
        rng.multinomial(n, p)


def kde_raw(reps, n, gens, rng):
    for _ in range(gens):
        rng.integers(n, size=(reps, n))
        rng.standard_normal((reps, n))


def regression_raw(reps, rows, gens, rng):
    for _ in range(gens):
        rng.standard_normal((reps, rows))


def gmm_raw(reps, n, gens, rng):
    for _ in range(gens):
        rng.choice(2, size=(reps, n))
        rng.standard_normal((reps, n))


def main() -> list[dict]:
    rng = np.random.default_rng(0)
    cases = [
        (
            "categorical",
            dict(replicates=100, symbols=1000, samples=1000, generations=100),
            lambda: categorical_baseline(100, 1000, 1000, 100, rng),
            lambda: categorical_raw(100, 1000, 1000, 100, rng),
        ),
        (
            "kde",
            dict(replicates=1000, samples=100, generations=100, bandwidth=0.3),
            lambda: kde_baseline(1000, 100, 100, 0.3, rng),
            lambda: kde_raw(1000, 100, 100, rng),
        ),
        (
            "regression",
            dict(replicates=1000, samples=100, features=10, generations=100),
            lambda: regression_baseline(1000, 10, 100, 100, rng),
            lambda: regression_raw(1000, 100, 100, rng),
        ),
        (
            "gmm",
            dict(replicates=4, samples=1000, generations=25),
            lambda: gmm_baseline(4, 1000, 25, rng),
            lambda: gmm_raw(4, 1000, 25, rng),
        ),
    ]
    rows = []
    for name, params, baseline, raw in cases:
        shape = f"R={params['replicates']} N={params['samples']} G={params['generations']}"
        ours, theirs, floor = package(name, **params), timed(baseline), timed(raw, repeat=3)
        rows.append(
            {
                "model": name,
                "size": shape,
                "package_s": ours,
                "baseline_s": theirs,
                "raw_draws_s": floor,
                "baseline/package": theirs / ours,
                "package/raw": ours / floor,
            }
        )
    scale = dict(replicates=1000, symbols=1000, samples=1000, generations=1000)
    big = package("categorical", **scale)
    rows.append(
        {
            "model": "categorical",
            "size": "R=1000 K=1000 N=1000 G=1000",
            "package_s": big,
            "baseline_s": np.nan,
            "raw_draws_s": np.nan,
            "baseline/package": np.nan,
            "package/raw": np.nan,
        }
    )
    header = (
        f"{'model':<12} {'size':<28} {'package s':>10} {'baseline s':>11} {'raw s':>8} {'base/pkg':>9} {'pkg/raw':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['model']:<12} {r['size']:<28} {r['package_s']:>10.3f} {r['baseline_s']:>11.3f} "
            f"{r['raw_draws_s']:>8.3f} {r['baseline/package']:>9.1f} {r['package/raw']:>8.1f}"
        )
    print(f"categorical at 1000^4: {big:.2f} s ({'under' if big < 10 else 'OVER'} the 10 s target)")
    return rows


if __name__ == "__main__":
    main()
