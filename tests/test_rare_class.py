"""A minority class refitted from its own labels: the exact Wright-Fisher chain, the argmax map
of Taori and Hashimoto, and the per-group accuracies, against simulation.

Tolerances are 4.5 standard errors of the simulated mean (binomial ones from the closed form
where the statistic is a 0/1 event), never a slack copied from an earlier run.
"""

from __future__ import annotations

import numpy as np
import pytest

from autophagy import run, theory
from autophagy.experiments.rare_class import loss_generations
from autophagy.models.labelled_mixture import LabelledMixture, labelled_sample

TOLERANCE = 4.5


def assert_share_close(events: np.ndarray, probability: float, label: str = "") -> None:
    """The share of 0/1 ``events`` is within 4.5 binomial standard errors of ``probability``."""
    se = np.sqrt(probability * (1 - probability) / len(events))
    assert abs(events.mean() - probability) < TOLERANCE * se + 1e-12, (label, events.mean(), probability)


def loop(labelling: str, generations: int = 30, replicates: int = 3000, samples: int = 100, share: float = 0.02):
    return run(
        "rare-class",
        profile="smoke",
        seed=5,
        labelling=labelling,
        generations=generations,
        replicates=replicates,
        samples=samples,
        share=share,
        progress=False,
    )


def test_sampled_labels_lose_the_minority_when_the_exact_chain_says():
    history = loop("sampled")
    gone = history.wide("minority_gone")
    chain = theory.rare_class_lost_by(30, 100, 0.02)
    for g in (1, 3, 10, 30):
        assert_share_close(gone.loc[g].to_numpy(), chain[g], f"generation {g}")


def test_sampled_labels_keep_the_minority_share_on_average():
    share = loop("sampled", generations=20).wide("minority_share").loc[20].to_numpy()
    assert abs(share.mean() - 0.02) < TOLERANCE * share.std(ddof=1) / np.sqrt(len(share))


def test_argmax_labels_lose_the_minority_faster_than_sampled_ones():
    sampled, argmax = (
        loop(labelling, generations=5).wide("minority_gone").loc[5].to_numpy() for labelling in ("sampled", "argmax")
    )
    gap = argmax.mean() - sampled.mean()
    se = np.hypot(argmax.std(ddof=1), sampled.std(ddof=1)) / np.sqrt(len(sampled))
    assert gap > TOLERANCE * se


@pytest.mark.parametrize("share, separation", [(0.02, 3.0), (0.1, 1.5), (0.3, 4.0)])
def test_one_argmax_labelling_by_the_true_classes_gives_the_closed_form_share(share, separation):
    model = LabelledMixture(1, share, separation, labelling="argmax")
    labels = model.sample(400_000, np.random.default_rng(1))[0, :, 1]
    assert_share_close(labels, float(theory.argmax_share(share, separation)))


def test_per_group_accuracies_match_labelling_real_examples():
    rng = np.random.default_rng(2)
    model = LabelledMixture(3, 0.1, 2.0)
    model.fit(labelled_sample(3, 200, 0.1, np.tile([1.0, -1.0], (3, 1)), rng))
    minority, majority = model.accuracies(2.0)
    for cls, exact in ((1.0, minority), (0.0, majority)):
        real = np.full((3, 200_000), 1.0 if cls else -1.0) + rng.standard_normal((3, 200_000))
        said_minority = model.minority_log_odds(real) > 0
        correct = said_minority if cls else ~said_minority
        for r in range(3):
            assert_share_close(correct[r].astype(float), exact[r], f"class {cls}, replicate {r}")


def test_a_class_that_is_gone_is_never_drawn_nor_predicted():
    model = LabelledMixture(2, 0.5, 2.0, labelling="argmax")
    data = labelled_sample(2, 50, np.array([0.0, 0.5]), np.tile([1.0, -1.0], (2, 1)), np.random.default_rng(0))
    model.fit(data)
    again = model.sample(1000, np.random.default_rng(1))
    assert not again[0, :, 1].any() and again[1, :, 1].any()
    minority, majority = model.accuracies(2.0)
    assert minority[0] == 0 and majority[0] == 1


def test_the_loss_time_within_a_horizon_is_the_chains_and_nears_kimura_ohtas_for_long_ones():
    first = loss_generations(loop("sampled", generations=60))
    exact = theory.rare_class_loss_time_within(60, 100, 0.02)
    assert abs(first.mean() - exact) < TOLERANCE * first.std(ddof=1) / np.sqrt(len(first))
    assert theory.rare_class_loss_time_within(4000, 1000, 0.02) == pytest.approx(
        theory.rare_class_loss_time(1000, 0.02), rel=0.05
    )


def test_a_rare_class_keeps_its_share_of_the_real_images_and_every_other_image():
    from autophagy.experiments.images import with_rare_class

    labels = np.repeat(np.arange(10), 500)
    images = np.arange(len(labels))  # each "image" names its row
    kept = with_rare_class(images, labels, rare=3, share=0.02)
    rare = labels[kept] == 3
    assert rare.sum() == round(0.02 / 0.98 * 4500)
    assert set(kept[~rare]) == set(np.flatnonzero(labels != 3))
    assert np.array_equal(with_rare_class(images, labels, 3, 0.02), kept)  # the same images in every run


def test_a_rare_share_beyond_the_class_it_thins_is_refused():
    from autophagy.experiments.images import with_rare_class
    from autophagy.params import ParameterError

    labels = np.repeat(np.arange(10), 50)
    with pytest.raises(ParameterError, match="rare_share"):
        with_rare_class(np.arange(len(labels)), labels, rare=3, share=0.5)
