"""The Gaussian loop: exact vs sample methods against numpy's raw cost and a naive loop."""

from __future__ import annotations

import numpy as np
from timing import timed

from autophagy.engine.loop import LoopSettings, run_loop
from autophagy.experiments import resolve_config
from autophagy.experiments.gaussian import build


def loop_time(reps: int, gens: int, n: int, method: str) -> float:
    _, config = resolve_config("gaussian", "default", 0, replicates=reps, generations=gens, samples=n, method=method)
    params = config["params"]
    spec = build(params)
    settings = LoopSettings(generations=gens, samples=n, replicates=reps)
    return timed(lambda: run_loop(spec, settings, progress=False), repeat=1 if gens > 1000 else 3)


def naive_time(reps: int, gens: int, n: int) -> float:
    """A per-replicate Python loop, as a research notebook would write it."""

    def go():
        rng = np.random.default_rng(0)
        for _ in range(reps):
            mu, sigma = 0.0, 1.0
            for _ in range(gens):
                x = rng.normal(mu, sigma, n)
                mu, sigma = x.mean(), x.std()

    return timed(go, repeat=1)


def exact_floor(reps: int, gens: int, n: int, keep: str) -> float:
    """The exact method's floor: one normal and one chi-square per replicate and generation.
    ``keep``: "nothing"; "moments", each generation's mean and variance stored; "record", every
    column the loop's record holds stored (the moments, W2 to the truth, and the generation,
    replicate, training-set size, real share and real draws of each row)."""

    def go():
        rng = np.random.default_rng(0)
        mu, var = np.zeros(reps), np.ones(reps)
        rows = (gens, reps)
        kept = {k: np.empty(rows) for k in ("mean", "var", "w2", "real_share")} if keep != "nothing" else {}
        if keep == "record":
            kept.update({k: np.empty(rows, dtype=np.int64) for k in ("generation", "replicate", "size", "drawn")})
        for g in range(gens):
            mu = mu + np.sqrt(var) * rng.standard_normal(reps) / np.sqrt(n)
            var = var * rng.chisquare(n - 1, reps) / n
            if keep != "nothing":
                kept["mean"][g], kept["var"][g] = mu, var
            if keep == "record":
                kept["w2"][g] = np.sqrt(mu**2 + (np.sqrt(var) - 1) ** 2)
                kept["real_share"][g], kept["generation"][g], kept["size"][g], kept["drawn"][g] = 0.0, g, n, 0
                kept["replicate"][g] = np.arange(reps)

    return timed(go, repeat=3)


def main() -> list[dict]:
    rows = []
    t = loop_time(1000, 10_000, 10_000, "exact")
    rows.append({"case": "exact: 1000 replicates x 10^4 generations, N=10^4", "seconds": t, "target": "< 2 s"})
    reps, gens = 1000, 2000
    small, large = loop_time(reps, gens, 100, "exact"), loop_time(reps, gens, 10**6, "exact")
    rows.append({"case": f"exact: {reps} x {gens}, N=10^2", "seconds": small, "target": ""})
    rows.append(
        {
            "case": f"exact: {reps} x {gens}, N=10^6",
            "seconds": large,
            "target": f"flat in N: ratio {large / small:.2f} (target <= 1.2)",
        }
    )
    what = {"nothing": "", "moments": ", means and variances stored", "record": ", the record's 8 columns stored"}
    for keep, stored in what.items():
        floor = exact_floor(reps, gens, 100, keep)
        rows.append(
            {
                "case": f"  floor: normal + chi-square{stored}",
                "seconds": floor,
                "target": f"exact/floor {small / floor:.2f}" + (" (target <= 1.5)" if keep == "moments" else ""),
            }
        )
    reps, gens, n = 100, 50, 10_000
    sample = loop_time(reps, gens, n, "sample")
    rng = np.random.default_rng(0)
    draw = timed(lambda: [rng.standard_normal((reps, n)) for _ in range(gens)], repeat=3)
    naive = naive_time(reps, gens, n)
    rows.append({"case": f"sample: {reps} x {gens} x N={n}", "seconds": sample, "target": "< 2x numpy draws"})
    rows.append({"case": "  numpy: drawing the same normals", "seconds": draw, "target": f"ratio {sample / draw:.2f}"})
    rows.append(
        {"case": "  naive per-replicate Python loop", "seconds": naive, "target": f"speed-up {naive / sample:.1f}x"}
    )
    return rows


if __name__ == "__main__":
    for row in main():
        print(f"{row['case']:<55} {row['seconds']:8.3f} s   {row['target']}")
