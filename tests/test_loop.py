"""The loop engine: training sets of every mode, provenance, determinism and resume."""

import time

import numpy as np
import pandas as pd
import pytest

from autophagy import run
from autophagy.engine import modes, trainsets
from autophagy.engine.loop import LoopSettings, LoopSpec, _Loop, fresh_real_count, run_loop
from autophagy.experiments import get, resolve_config
from autophagy.models.gaussian import Gaussian
from autophagy.runs.history import History
from autophagy.runs.store import RunDir

N, R = 50, 4


class Recorder(Gaussian):
    """A batched Gaussian that remembers every training set it was fitted on."""

    def __init__(self, log, **kw):
        super().__init__(R, method="sample", **kw)
        self.log = log

    def fit(self, data, step=None):
        self.log.append(np.array(data))
        super().fit(data, step)


def spec_with(log):
    truth = Gaussian(R, method="sample")
    return LoopSpec(
        make_model=lambda: Recorder(log), real=truth.sample, metrics=lambda model, step: {"var": model.var}, truth=truth
    )


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


def test_a_save_is_due_after_the_interval_unless_the_run_ends_within_it(tmp_path):
    config = {"experiment": "gaussian", "params": {}, "seed": 0}
    with RunDir(tmp_path / "now", config, save_every=0.0) as every_generation:
        assert every_generation.due() and every_generation.due(left=0.5)
    with RunDir(tmp_path / "later", config, save_every=3600.0) as hourly:
        assert not hourly.due()
    with RunDir(tmp_path / "soon", config, save_every=1e-9) as store:
        time.sleep(0.01)  # the interval has passed
        assert store.due() and store.due(left=1.0)
        assert not store.due(left=1e-10)  # the end saves sooner


# -- the step context, modes as objects, origins as counts ---------------------------------


class StepRecorder(Gaussian):
    """A batched Gaussian that remembers the step of every fit."""

    def __init__(self, steps):
        super().__init__(R, method="sample")
        self.steps = steps

    def fit(self, data, step=None):
        self.steps.append(step)
        super().fit(data, step)


def test_every_hook_is_told_its_generation_unit_and_run_directory(tmp_path):
    fits, measured, saved = [], [], []
    truth = Gaussian(R, method="sample")
    spec = LoopSpec(
        make_model=lambda: StepRecorder(fits),
        real=truth.sample,
        truth=truth,
        metrics=lambda model, step: measured.append(step) or {"var": model.var},
        artifacts=lambda model, step: saved.append(step),
    )
    with RunDir(tmp_path / "run", {"experiment": "test"}) as store:
        run_loop(spec, LoopSettings(4, N, replicates=R), store=store, progress=False)
    assert [s.generation for s in fits] == [1, 2, 3, 4] and fits[0].first and not fits[1].first
    assert [s.generation for s in measured] == [s.generation for s in saved] == [0, 1, 2, 3, 4]
    assert {s.unit for s in measured} == {0} and {s.run_dir for s in saved} == {store.path}


def test_a_run_in_memory_gives_its_hooks_no_run_directory():
    saved = []
    truth = Gaussian(R, method="sample")
    spec = LoopSpec(
        make_model=lambda: Gaussian(R, method="sample"),
        real=truth.sample,
        truth=truth,
        metrics=lambda model, step: {"var": model.var},
        artifacts=lambda model, step: saved.append(step),
    )
    run_loop(spec, LoopSettings(2, N, replicates=R), progress=False)
    assert [s.run_dir for s in saved] == [None, None, None]


@pytest.mark.parametrize("name", list(modes.MODES))
def test_a_mode_is_a_source_and_a_memory_and_knows_what_it_holds(name):
    mode = modes.get(name)
    assert mode.web == name.startswith("web")
    assert mode.accumulates == ("accumulate" in name)
    assert mode.fully_synthetic == (name == "replace")
    held = mode.sets_held(generations=7, synthetic_ratio=0.5)
    assert held == (8 if mode.accumulates else 1.5 if name == "augment" else 2)


def test_an_unknown_mode_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="expected one of replace, augment"):
        LoopSettings(3, N, mode="recycle")


def test_origin_counts_join_and_report_the_real_share_like_labels():
    labels = [np.zeros(30, dtype=np.int32), np.full(50, 1, dtype=np.int32), np.full(20, 3, dtype=np.int32)]
    counts = [trainsets.OriginCounts(np.array([g]), np.array([len(x)])) for g, x in zip((0, 1, 3), labels)]
    joined = trainsets.concat_origin(counts)
    assert trainsets.real_share(joined) == trainsets.real_share(trainsets.concat_origin(labels)) == 0.3
    again = trainsets.decode_origin(trainsets.encode_origin(joined))
    assert np.array_equal(again.generations, [0, 1, 3]) and np.array_equal(again.counts, [30, 50, 20])


@pytest.mark.parametrize("samples", [100, 10**6])
def test_exact_gaussian_training_sets_carry_counts_whatever_their_size(samples):
    """The exact method's origins are counts (no array of N labels), and the fresh mode's real
    share is the loop's own rounding of real_fraction * N."""
    _, config = resolve_config("gaussian", "smoke", 0, samples=samples, mode="fresh", real_fraction=0.25, generations=3)
    history = run(
        "gaussian", profile="smoke", progress=False, samples=samples, mode="fresh", real_fraction=0.25, generations=3
    )
    later = history.frame[history.frame["generation"] >= 2]
    assert (later["real_share"] == fresh_real_count(0.25, samples) / samples).all()
    assert (later["train_size"] == samples).all() and config["params"]["method"] == "exact"
    loop = _Loop(get("gaussian").build(config["params"]), LoopSettings.from_params(config["params"], 0))
    for generation in (1, 2):
        _, origin = loop.training_set(loop.units[0], generation, np.random.default_rng(generation))
        assert isinstance(origin, trainsets.OriginCounts) and origin.counts.sum() == samples


@pytest.mark.parametrize("order", ["as recorded", "shuffled"])
def test_history_quantiles_are_pandas_quantiles_whatever_the_row_order(order):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"generation": np.repeat(np.arange(6), 9), "replicate": np.tile(np.arange(9), 6), "m": rng.random(54)}
    )
    frame.loc[:8, "m"] = np.nan  # generation 0 has no value, generation 1 one missing
    frame.loc[11, "m"] = np.nan
    if order == "shuffled":
        frame = frame.sample(frac=1, random_state=1)
    expected = frame.groupby("generation")["m"].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    found = History(frame, {}).quantiles("m")
    assert list(found.index) == list(expected.index)
    assert np.allclose(found.to_numpy(), expected.to_numpy(), equal_nan=True)


@pytest.mark.parametrize("generations, most", [(10, 4), (10_000, 1001), (5, 1001)])
def test_a_thinned_history_keeps_whole_evenly_spaced_generations_the_first_and_last_among_them(generations, most):
    frame = pd.DataFrame(
        {
            "generation": np.repeat(np.arange(generations + 1), 3),
            "replicate": np.tile(np.arange(3), generations + 1),
            "m": np.arange(3 * (generations + 1), dtype=float),
        }
    )
    thinned = History(frame, {}).thinned(most).frame
    kept = np.unique(thinned["generation"])
    assert len(kept) == min(most, generations + 1) and kept[0] == 0 and kept[-1] == generations
    assert np.ptp(np.diff(kept)) <= 1  # evenly spaced, up to rounding
    assert thinned.equals(frame[frame["generation"].isin(kept)].reset_index(drop=True))
