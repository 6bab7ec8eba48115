"""The loop engine: training sets of every mode, provenance, determinism and resume."""

import numpy as np
import pandas as pd
import pytest

from autophagy import run
from autophagy.engine.loop import LoopSettings, LoopSpec, run_loop
from autophagy.models.gaussian import Gaussian
from autophagy.engine.store import RunDir
from autophagy.runner import resolve_config

N, R = 50, 4


class Recorder(Gaussian):
    """A batched Gaussian that remembers every training set it was fitted on."""

    def __init__(self, log, **kw):
        super().__init__(R, method="sample", **kw)
        self.log = log

    def fit(self, data, rng=None):
        self.log.append(np.array(data))
        super().fit(data, rng)


def spec_with(log):
    truth = Gaussian(R, method="sample")
    return LoopSpec(make_model=lambda: Recorder(log), real=truth.sample,
                    metrics=lambda model, rng: {"var": model.var}, truth=truth)


def training_sizes(mode, generations=5, **kw):
    log = []
    spec = spec_with(log)
    rows = run_loop(spec, LoopSettings(generations, N, mode=mode, replicates=R, **kw), progress=False)
    return [d.shape[1] for d in log], pd.DataFrame(rows)


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("replace", [N] * 5),
        ("fresh", [N] * 5),
        ("augment", [N] + [N + N // 2] * 4),
        ("accumulate", [N * (t + 1) for t in range(5)]),
        ("accumulate-subsample", [N] * 5),
    ],
)
def test_training_set_sizes_follow_the_mode(mode, expected):
    sizes, frame = training_sizes(mode, real_fraction=0.2, synthetic_ratio=0.5)
    assert sizes == expected
    assert (frame.loc[frame.generation > 0, "train_size"].to_numpy() == np.repeat(expected, R)).all()


@pytest.mark.parametrize(
    "mode, share",
    [("replace", 0.0), ("fresh", 0.2), ("augment", 1 / 1.5), ("accumulate", None)],
)
def test_real_share_of_each_training_set(mode, share):
    _, frame = training_sizes(mode, real_fraction=0.2, synthetic_ratio=0.5)
    gens = frame[frame.generation >= 1].groupby("generation")["real_share"].mean()
    assert gens.loc[1] == 1.0  # generation 1 is fitted on real data only
    later = gens.loc[2:].to_numpy()
    if mode == "accumulate":
        expected = 1 / np.arange(2, 6)  # the real set is one of t equal parts
        np.testing.assert_allclose(later, expected)
    else:
        np.testing.assert_allclose(later, share)


def test_accumulate_subsample_draws_from_the_whole_pool():
    _, frame = training_sizes("accumulate-subsample", generations=30)
    share = frame[frame.generation == 30]["real_share"]
    # n of the 30 N pooled samples, N of them real: hypergeometric mean 1/30 per replicate
    assert 0 < share.mean() < 0.2


def test_accumulate_keeps_the_real_samples_in_place():
    log = []
    spec = spec_with(log)
    run_loop(spec, LoopSettings(4, N, mode="accumulate", replicates=R), progress=False)
    for later in log[1:]:
        np.testing.assert_array_equal(later[:, :N], log[0])


def test_augment_reuses_the_first_real_set():
    log = []
    spec = spec_with(log)
    run_loop(spec, LoopSettings(4, N, mode="augment", replicates=R), progress=False)
    for later in log[1:]:
        np.testing.assert_array_equal(later[:, :N], log[0])


def test_same_seed_gives_identical_records():
    a = run("gaussian", profile="smoke", seed=3, progress=False, generations=20).frame
    b = run("gaussian", profile="smoke", seed=3, progress=False, generations=20).frame
    c = run("gaussian", profile="smoke", seed=4, progress=False, generations=20).frame
    pd.testing.assert_frame_equal(a, b)
    assert not a["var"].equals(c["var"])


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("mode", ["replace", "accumulate", "augment", "accumulate-subsample"])
def test_resume_after_interruption_gives_the_uninterrupted_numbers(tmp_path, mode):
    params = dict(generations=12, samples=40, replicates=6, mode=mode, method="sample")
    reference = run("gaussian", profile="smoke", seed=1, progress=False, **params).frame

    experiment, config = resolve_config("gaussian", "smoke", 1, **params)
    spec = experiment.build(config["params"])
    calls = {"n": 0}
    real_fit = Gaussian.fit

    def flaky_fit(self, data, rng=None):
        calls["n"] += 1
        if calls["n"] == 8:
            raise Interrupt
        real_fit(self, data, rng)

    settings = LoopSettings(12, 40, mode=mode, replicates=6, seed=1)
    with RunDir(tmp_path, config, save_every=0.0) as store:
        Gaussian.fit = flaky_fit
        try:
            with pytest.raises(Interrupt):
                run_loop(spec, settings, store=store, progress=False)
        finally:
            Gaussian.fit = real_fit
        saved, _, _ = store.resume()
        assert saved == 7
    resumed = run("gaussian", out=tmp_path, profile="smoke", seed=1, progress=False, **params).frame
    pd.testing.assert_frame_equal(resumed, reference, check_dtype=False)
    on_disk = pd.read_parquet(tmp_path / "metrics.parquet")
    pd.testing.assert_frame_equal(on_disk, reference, check_dtype=False)
