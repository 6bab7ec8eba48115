"""Colored MNIST and the ``colored-mnist-ddpm`` loop: the data's group shares, the colour
oracle, stratified reparation, the two-channel DDPM beside the unchanged grey one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autophagy.data import colored_mnist, mnist
from autophagy.mitigations.selection import Stratified


@pytest.fixture(scope="module")
def train():
    return colored_mnist.load("train", 0.1)


def test_the_minority_share_is_group_share_within_binomial_errors_and_independent_of_the_digit(train):
    _, labels, groups = train
    se = np.sqrt(0.1 * 0.9 / len(groups))
    assert abs(groups.mean() - 0.1) < 4.5 * se
    for digit in range(10):
        mine = groups[labels == digit]
        assert abs(mine.mean() - 0.1) < 4.5 * np.sqrt(0.1 * 0.9 / len(mine))


def test_the_data_is_mnist_painted_and_the_same_for_the_same_seed(train):
    images, labels, groups = train
    grey, digits = mnist.load("train")
    assert images.shape == (len(grey), 2, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(labels, digits) and np.array_equal(colored_mnist.grey(images), grey)
    assert (images[np.arange(len(images)), 1 - groups] == 0).all()  # the other channel is black
    again, other = colored_mnist.load("train", 0.1), colored_mnist.load("train", 0.1, seed=1)
    assert np.array_equal(again[0], images) and not np.array_equal(other[2], groups)


@pytest.mark.parametrize("split", ["train", "test"])
def test_the_colour_oracle_is_exact_on_real_digits(split):
    images, _, groups = colored_mnist.load(split, 0.3)
    assert np.array_equal(colored_mnist.group_of(images), groups)


@pytest.mark.parametrize("share", [0.0, 1.0, -0.1])
def test_a_share_outside_the_open_interval_is_refused(share):
    with pytest.raises(ValueError, match="group_share"):
        colored_mnist.load("test", share)


@pytest.mark.parametrize("minority, n", [(30, 100), (3, 100), (0, 40), (90, 57)])
def test_stratified_reparation_restores_the_real_proportions_exactly(minority, n):
    samples = np.arange(100)
    groups = (samples < minority).astype(int)
    keep = Stratified(lambda s: groups[s], [0.9, 0.1])(samples, n, np.random.default_rng(0))
    assert len(keep) == n
    got = groups[keep].sum()
    assert got == (round(0.1 * n) if minority else 0)  # an absent group cannot be restored
    # each group drawn without replacement when it has enough samples
    for g, wanted in ((1, got), (0, n - got)):
        if (groups == g).sum() >= wanted:
            assert len(set(keep[groups[keep] == g])) == wanted


def test_stratified_counts_round_by_largest_remainders():
    strat = Stratified(lambda s: s, [0.5, 0.3, 0.2])
    assert strat.counts(np.array([True, True, True]), 7).tolist() == [4, 2, 1]
    assert strat.counts(np.array([True, False, True]), 7).tolist() == [5, 0, 2]


def test_the_grey_model_is_unchanged_and_the_widened_one_samples_colour():
    from autophagy import weights
    from autophagy.models.diffusion import DDPMArchitecture, Diffusion, widen

    card = weights.card("mnist-ddpm")
    grey = Diffusion(DDPMArchitecture(**card["architecture"]), conditional=False, sample_steps=2, progress=False)
    assert "image_channels" not in grey.fit_settings  # the key of cached grey fits, as before
    grey.start_from(weights.load("mnist-ddpm"))
    assert grey.sample(3, np.random.default_rng(0)).shape == (3, 28, 28)
    arch = DDPMArchitecture(**{**card["architecture"], "image_channels": 2})
    colour = Diffusion(arch, conditional=False, sample_steps=2, progress=False)
    colour.start_from(widen(weights.load("mnist-ddpm"), 2))
    assert colour.fit_settings["image_channels"] == 2
    out = colour.sample(3, np.random.default_rng(0), labels=np.array([1, 2, 3]))
    assert out.shape == (3, 2, 28, 28) and out.dtype == np.uint8
    assert widen(weights.load("mnist-ddpm"), 1).keys() == weights.load("mnist-ddpm").keys()


def test_a_smoke_run_records_both_groups(tmp_path):
    from autophagy import run

    result = run("colored-mnist-ddpm", profile="smoke", progress=False, reparation="stratified")
    frame = result.frame
    assert len(frame) == 3
    real = frame.query("generation == 0").iloc[0]
    assert 0 < real["minority_group_share"] < 0.3 and real["accuracy_majority"] > 0.8
    shares = frame["minority_group_share"]
    assert ((shares >= 0) & (shares <= 1)).all()
    assert pd.notna(frame["accuracy_majority"]).all()


def test_generation_one_of_the_loop_is_the_shipped_colour_model():
    from autophagy import weights
    from autophagy.engine.loop import rng_for
    from autophagy.engine.step import Step
    from autophagy.experiments import resolve_config
    from autophagy.experiments.colored import _build

    params = resolve_config("colored-mnist-ddpm", "smoke", 0)[1]["params"]
    spec = _build({**params, "grid": 0}, progress=False)
    model, step = spec.make_model(), Step(rng_for(0, 0, 1))
    model.fit(spec.real(params["samples"], step.rng), step)
    shipped = weights.load("colored-mnist-ddpm")
    state = {k: v.detach().cpu().numpy() for k, v in model.ema_net.state_dict().items()}
    assert all(np.array_equal(state[k], shipped[k]) for k in shipped)


@pytest.mark.slow
def test_the_shipped_colour_model_draws_both_groups_and_recognisable_digits():
    from autophagy import weights
    from autophagy.experiments.colored import quality

    labels = mnist.load("train")[1]
    q = quality(weights.load("colored-mnist-ddpm"), labels, samples=300)
    assert abs(q["minority_group_share"] - 0.1) < 4.5 * np.sqrt(0.1 * 0.9 / 300) + 0.05
    assert q["accuracy_majority"] >= 0.8 and q["accuracy_minority"] >= 0.5  # the card: 0.93 and 0.69


@pytest.mark.parametrize("green, scored", [(6, False), (7, True), (0, False)])
def test_a_group_too_small_for_its_neighbours_scores_nan_and_the_run_goes_on(green, scored):
    from autophagy.experiments.colored import GroupScorer
    from autophagy.models.image_classifier import classifier

    images, labels, _ = colored_mnist.load("test", 0.1)
    groups = (np.arange(60) < green).astype(int)
    samples = colored_mnist.paint(colored_mnist.grey(images[:60]), groups)
    out = GroupScorer(classifier("mnist", 5000), colored_mnist.grey(images[100:160]))(samples, labels[:60])
    assert out["minority_group_share"] == green / 60
    assert np.isfinite(out["precision_minority"]) == scored and np.isfinite(out["recall_minority"]) == scored
    assert np.isfinite(out["accuracy_minority"]) == (green > 0) and np.isfinite(out["precision_majority"])
