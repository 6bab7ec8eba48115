"""Mitigations: the uncontrolled web, screening filters, the watermark, the sweeps and the arena.

Tolerances are 4 Monte-Carlo standard errors (see test_toys.py) or exact invariants.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import autophagy
from autophagy import theory
from autophagy.cli import main
from autophagy.engine.loop import LoopSettings
from autophagy.engine.step import Step
from autophagy.experiments import registry
from autophagy.experiments.mitigation import ADOPTIONS
from autophagy.experiments.text import WATERMARK_KEY, load_corpus
from autophagy.mitigations.curation import GaussianVerifier
from autophagy.mitigations.detection import PerplexityDetector
from autophagy.mitigations.filters import Detector, chain, provenance
from autophagy.mitigations.watermark import KEPT_LISTS_MAX_VOCAB, GreenList, edit_tokens, false_positive_rate
from autophagy.models.decoding import Decoding
from autophagy.models.ngram import NGram
from autophagy.params import ParameterError

N, R, G = 100, 1000, 8


def assert_mean_close(values, expected, label=""):
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert abs(values.mean() - expected) < 4 * se, (
        f"{label}: mean {values.mean():.5g}, expected {expected:.5g}, se {se:.3g}"
    )


def assert_variance_close(values, expected, label=""):
    """Sample variance within 4 standard errors, sqrt(2 / (R - 1)) * expected (normal values)."""
    values = np.asarray(values, dtype=float)
    se = expected * np.sqrt(2 / (values.size - 1))
    assert abs(values.var(ddof=1) - expected) < 4 * se, (
        f"{label}: var {values.var(ddof=1):.5g}, expected {expected:.5g}"
    )


def gaussian(**params):
    return autophagy.run("gaussian", progress=False, samples=N, replicates=R, generations=G, **params)


# -- the uncontrolled web ---------------------------------------------------------------------


def test_web_scrape_has_the_synthetic_share_it_was_asked_for():
    h = gaussian(mode="web", web_start=0.3, web_growth=0.25, web_max=0.9)
    settings = LoopSettings(G, N, mode="web", web_start=0.3, web_growth=0.25, web_max=0.9)
    for t in range(1, G + 1):
        share = 1 - h.at(t)["real_share"]
        assert np.allclose(share, round(settings.synthetic_share(t) * N) / N), t
    assert settings.synthetic_share(1) == 0 and settings.synthetic_share(G) == 0.9


def test_gaussian_on_the_web_follows_the_mixing_recursion():
    settings = LoopSettings(G, N, mode="web")
    e, v = theory.web_moments(G, N, settings.synthetic_share)
    h = gaussian(mode="web")
    for t in (2, 5, G):
        assert_mean_close(h.at(t)["var"], e[t], f"E[sigma^2] t={t}")
        assert_variance_close(h.at(t)["mean"], v[t], f"Var(mu) t={t}")


def test_web_accumulate_keeps_every_scrape():
    h = gaussian(mode="web-accumulate")
    assert [int(h.at(t)["train_size"].iloc[0]) for t in range(1, G + 1)] == [N * t for t in range(1, G + 1)]


def test_web_budget_trains_on_n_drawn_from_every_scrape_so_far():
    """Fixed budget: n samples a generation, whose real share is, on average, the pool's."""
    h = gaussian(mode="web-accumulate-subsample", method="sample")
    settings = LoopSettings(G, N, mode="web")
    assert (h.frame.loc[h.frame.generation > 0, "train_size"] == N).all()
    pool_real = sum(N - round(settings.synthetic_share(t) * N) for t in range(1, G + 1)) / (N * G)
    assert_mean_close(h.at(G)["real_share"], pool_real, "real share of the budget")


def test_a_filter_with_perfect_labels_reproduces_the_real_only_run():
    """Full provenance drops every synthetic sample: every training set is real, and the
    moments are those of n fresh real samples a generation (E sigma^2 = (n-1)/n, Var mu = 1/n)."""
    h = gaussian(mode="web", method="sample", provenance=1.0)
    assert (h.frame.loc[h.frame.generation > 0, "real_share"] == 1).all()
    for t in (2, G):
        assert_mean_close(h.at(t)["var"], (N - 1) / N, f"t={t}")
        assert_variance_close(h.at(t)["mean"], 1 / N, f"t={t}")


def test_detector_lets_synthetic_data_through_at_its_miss_rate():
    tpr, fpr = 0.7, 0.2
    h = gaussian(mode="web", method="sample", detector_tpr=tpr, detector_fpr=fpr)
    share = LoopSettings(G, N, mode="web").synthetic_share(G)
    real, synth = (1 - share) * (1 - fpr), share * (1 - tpr)
    expected = real / (real + synth)
    observed = h.at(G)["real_share"]
    se = np.sqrt(expected * (1 - expected) / (N * R))  # binomial; drawing without replacement is tighter
    assert abs(observed.mean() - expected) < 4 * se + 1e-12


@pytest.mark.parametrize("knob, low, high", [("detector_tpr", 0.0, 0.95), ("provenance", 0.0, 0.9)])
def test_stronger_screening_keeps_the_gaussian_closer_to_the_truth(knob, low, high):
    weak = gaussian(mode="web", method="sample", **{knob: low}).at(G)["w2"]
    strong = gaussian(mode="web", method="sample", **{knob: high}).at(G)["w2"]
    se = np.sqrt(weak.var() / R + strong.var() / R)
    assert weak.mean() - strong.mean() > 4 * se


def test_detector_false_positives_cost_real_samples():
    h = gaussian(mode="web", method="sample", detector_tpr=0.9, detector_fpr=0.5)
    assert (h.at(1)["real_drawn"] > N).all()  # at generation 1 the web is real: every flag is a loss


def test_filters_chain_and_provenance_never_drops_real_data():
    rng = np.random.default_rng(0)
    origin = np.r_[np.zeros(5000, int), np.ones(5000, int)]
    kept = provenance(0.6)(None, origin, rng)
    assert kept[:5000].all()
    assert abs(kept[5000:].mean() - 0.4) < 4 * np.sqrt(0.24 / 5000)
    both = chain([provenance(1.0), Detector(0.0, 0.5)])(None, origin, rng)
    assert not both[5000:].any() and abs(both[:5000].mean() - 0.5) < 4 * np.sqrt(0.25 / 5000)


@pytest.mark.parametrize(
    "params, words",
    [
        ({"mode": "replace", "method": "sample", "detector_tpr": 0.9}, "web"),
        ({"mode": "web", "detector_tpr": 0.9}, "method=sample"),
        ({"mode": "web", "method": "sample", "detector_tpr": 1.0, "web_max": 1.0}, "pass"),
    ],
)
def test_impossible_screening_is_refused_before_any_work(params, words, tmp_path):
    with pytest.raises(ParameterError, match=words):
        autophagy.run("gaussian", out=tmp_path / "run", **params)
    assert not (tmp_path / "run").exists()


def test_mixing_recursion_reduces_to_the_fresh_fixed_point():
    e, v = theory.mixing_moments(np.full(4000, 0.1), 100)
    assert np.allclose((e[-1], v[-1]), theory.fresh_fixed_point(100, 0.1))


# -- the watermark ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus():
    return load_corpus({"block_len": 64, "vocab_size": 2048, "model": "ngram"})


@pytest.fixture(scope="module")
def marks(corpus):
    return GreenList(corpus.vocab_size, 0.25, WATERMARK_KEY)


def watermarked(corpus, delta, n=200, seed=0):
    rng = np.random.default_rng(seed)
    marks = GreenList(corpus.vocab_size, 0.25, WATERMARK_KEY)
    model = NGram(corpus.vocab_size, 3, 64, Decoding(processor=marks.watermark(delta)))
    model.fit(corpus.train[:2000], Step(rng))
    return model.sample(n, rng)


def test_green_lists_hold_a_share_gamma_of_random_pairs():
    marks = GreenList(2048, 0.3, key=7)
    rng = np.random.default_rng(1)
    green = marks.is_green(rng.integers(0, 2048, 200_000), rng.integers(0, 2048, 200_000))
    assert abs(green.mean() - 0.3) < 4 * np.sqrt(0.21 / 200_000)


@pytest.mark.parametrize("vocab", [300, KEPT_LISTS_MAX_VOCAB + 1])
def test_green_lists_kept_or_computed_again_are_the_keyed_hash_of_each_pair(vocab):
    marks = GreenList(vocab, 0.25, key=3)
    rng = np.random.default_rng(2)
    for _ in range(3):  # later calls read the lists kept by earlier ones
        previous = rng.integers(0, vocab, 50)
        expected = marks.is_green(previous[:, None], np.arange(vocab)[None, :])
        assert np.array_equal(marks.green_after(previous, vocab), expected)
    assert np.array_equal(marks.green_after(previous, 7), expected[:, :7])  # a narrower row of logits


def test_false_positive_rate_on_real_text_is_within_its_binomial_bound(corpus, marks):
    z = marks.z_scores(corpus.test)
    bound = false_positive_rate(2.0, corpus.test.shape[1] - 1, marks.gamma)
    observed = (z > 2.0).mean()
    assert observed < bound + 4 * np.sqrt(bound * (1 - bound) / len(z))


def test_watermarked_text_scores_above_the_threshold_and_unmarked_text_does_not(corpus, marks):
    assert (marks.z_scores(watermarked(corpus, 4.0)) > 4).mean() > 0.9
    plain = marks.z_scores(watermarked(corpus, 0.0))
    assert abs(plain.mean()) < 4 * plain.std(ddof=1) / np.sqrt(plain.size)


def test_watermark_needs_the_key(corpus):
    other = GreenList(corpus.vocab_size, 0.25, WATERMARK_KEY + 1)
    z = other.z_scores(watermarked(corpus, 4.0))
    assert abs(z.mean()) < 4 * z.std(ddof=1) / np.sqrt(z.size)


def test_random_edits_weaken_detection_monotonically(corpus, marks):
    text = watermarked(corpus, 2.0, n=400)
    rng = np.random.default_rng(3)
    means = [marks.z_scores(edit_tokens(text, f, corpus.vocab_size, rng)).mean() for f in (0.0, 0.2, 0.5, 1.0)]
    assert means == sorted(means, reverse=True)
    assert abs(means[-1]) < 4 / np.sqrt(400)  # every token replaced: nothing left to detect


def test_watermark_with_beam_search_is_refused():
    with pytest.raises(ParameterError, match="beams=1"):
        Decoding(beams=2, processor=GreenList(2048).watermark(1.0))


def test_perplexity_detector_separates_model_text_from_real_text_better_than_chance(corpus):
    """Trained on its reference model's own samples, the detector's TPR exceeds its FPR by
    more than 4 binomial standard errors on held-out blocks."""
    rng = np.random.default_rng(5)
    order = rng.permutation(len(corpus.train))
    reference = NGram(corpus.vocab_size, 3, 64)
    reference.fit(corpus.train[order[:3000]], Step(rng))
    synthetic = reference.sample(800, rng)
    real = corpus.train[order[3000:3800]]
    detector = PerplexityDetector(reference).fit(real[:400], synthetic[:400])
    tpr, fpr = detector.rates(real[400:], synthetic[400:])
    assert tpr - fpr > 4 * np.sqrt((tpr * (1 - tpr) + fpr * (1 - fpr)) / 400 + 1e-12)


def test_dropping_watermarked_text_keeps_more_real_text_in_the_training_set():
    common = dict(
        profile="smoke",
        progress=False,
        mode="web",
        semantic=False,
        samples=200,
        generations=4,
        eval_samples=8,
        watermark_delta=4.0,
    )
    kept = autophagy.run("text", watermark_z=4.0, **common).at(4)["real_share"].mean()
    open_web = autophagy.run("text", **common).at(4)["real_share"].mean()
    assert open_web == pytest.approx(1 - round(0.6 * 200) / 200)
    se = np.sqrt(kept * (1 - kept) / 200 + open_web * (1 - open_web) / 200)  # binomial shares of n = 200
    assert kept - open_web > 4 * se, (kept, open_web)


def test_screening_for_a_watermark_no_producer_applies_keeps_the_webs_share():
    """The scraper's key without watermarked text: only false positives, about equally real and synthetic."""
    n = 200
    history = autophagy.run(
        "text",
        profile="smoke",
        progress=False,
        mode="web",
        semantic=False,
        samples=n,
        generations=4,
        eval_samples=8,
        watermark_z=4.0,
    )
    expected = 1 - round(0.6 * n) / n
    assert abs(history.at(4)["real_share"].mean() - expected) < 4 * np.sqrt(expected * (1 - expected) / n)


# -- sweeps and the arena -----------------------------------------------------------------


def test_mixing_sweep_matches_the_fresh_recursion_for_each_real_fraction():
    h = autophagy.run("mixing-sweep", profile="smoke", progress=False, replicates=400)
    for alpha, rows in h.frame.groupby("real_fraction"):
        e, _ = theory.fresh_moments([30], 100, alpha)
        assert_mean_close(rows[rows.generation == 30]["var"], e[0], f"alpha={alpha}")


def test_an_interrupted_sweep_resumes_at_its_first_unfinished_stage(tmp_path, monkeypatch):
    whole = autophagy.run("provenance-sweep", out=tmp_path / "whole", profile="smoke", progress=False).frame
    gaussian = registry.get("gaussian")
    real, calls = gaussian.run_records, []

    def counted(*args, interrupt_at=None, **kwargs):
        calls.append(1)
        if len(calls) == interrupt_at:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setenv("AUTOPHAGY_SAVE_EVERY", "0")
    with monkeypatch.context() as patch:
        patch.setattr(gaussian, "run_records", lambda *a, **k: counted(*a, interrupt_at=3, **k))
        with pytest.raises(KeyboardInterrupt):
            autophagy.run("provenance-sweep", out=tmp_path / "cut", profile="smoke", progress=False)
    calls.clear()
    monkeypatch.setattr(gaussian, "run_records", counted)
    resumed = autophagy.run("provenance-sweep", out=tmp_path / "cut", profile="smoke", progress=False).frame
    pd.testing.assert_frame_equal(resumed, whole, check_dtype=False)
    assert (tmp_path / "cut" / "metrics.parquet").read_bytes() == (tmp_path / "whole" / "metrics.parquet").read_bytes()
    assert len(calls) == len(ADOPTIONS) - 2  # the two saved stages did not run again


def test_arena_command_writes_one_row_per_modality_mitigation_generation_replicate_metric(tmp_path, capsys):
    out = tmp_path / "arena"
    code = main(
        [
            "run",
            "arena",
            "--out",
            str(out),
            "--profile",
            "smoke",
            "--set",
            "generations=2",
            "--set",
            "text_samples=100",
            "--set",
            "gaussian_replicates=20",
        ]
    )
    assert code == 0
    frame = pd.read_parquet(out / "metrics.parquet")
    assert list(frame.columns) == [
        "modality",
        "mitigation",
        "generation",
        "replicate",
        "metric",
        "value",
        "real_samples_used",
    ]
    assert set(frame.modality) == {"gaussian", "text"}
    assert {"none", "real-only"} <= set(frame.mitigation)
    assert not frame.duplicated(["modality", "mitigation", "generation", "replicate", "metric"]).any()
    real_only = frame[(frame.modality == "gaussian") & (frame.mitigation == "real-only")]
    assert (real_only.real_samples_used == real_only.generation * 100).all()
    assert main(["show", str(out)]) == 0


def test_bad_arena_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    assert main(["run", "arena", "--out", str(tmp_path / "a"), "--set", "detector_fpr=1"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "a").exists()


def test_arena_runs_every_mitigation_for_all_modalities_on_mnist_when_asked():
    from autophagy.experiments import resolve_config
    from autophagy.experiments.mitigation import MITIGATIONS, ONLY, arena_runs

    config = resolve_config("arena", profile="smoke", mnist="smoke")[1]["params"]
    mnist = {mitigation: params for modality, mitigation, _, params in arena_runs(config) if modality == "mnist"}
    assert set(mnist) == set(MITIGATIONS) - set(ONLY)
    assert mnist["none"]["mode"] == "web" and mnist["none"]["web_max"] == config["web_max"]
    assert mnist["detector"]["detector_tpr"] == config["detector_tpr"]
    assert all(params["generations"] == config["generations"] for params in mnist.values())


# --- curation and verification ----------------------------------------------------------


class _Model:
    """A batched Gaussian's parameters, as the verifier reads them."""

    def __init__(self, mu, sigma):
        self.mu, self.sigma = np.atleast_1d(mu), np.atleast_1d(sigma)


@pytest.mark.parametrize("accuracy", [0.0, 0.3, 1.0])
def test_verifier_of_accuracy_a_passes_the_mixture_of_truth_and_model(accuracy):
    """Samples of N(0.5, 1.5^2) (a bounded density ratio) pass as a * N(0, 1) + (1 - a) * model."""
    mu, sigma = 0.5, 1.5
    rng = np.random.default_rng(11)
    samples = mu + sigma * rng.standard_normal((1, 400_000))
    verifier = GaussianVerifier(accuracy, lambda: _Model(mu, sigma))
    kept = samples[verifier(samples, np.ones(samples.shape, dtype=np.int32), rng)]
    mean = (1 - accuracy) * mu
    var = accuracy + (1 - accuracy) * sigma**2 + accuracy * (1 - accuracy) * mu**2
    assert_mean_close(kept, mean, "kept mean")
    assert_variance_close(kept, var, "kept variance")


def test_verifier_accuracy_raises_the_variance_up_to_the_ideal_verifiers_recursion():
    """Each step of accuracy keeps the variance higher; no finite verifier beats the ideal one,
    which can also pick tails that a narrowed model no longer makes."""
    finals = {}
    for accuracy in (0.0, 0.25, 1.0):
        history = autophagy.run(
            "gaussian",
            samples=N,
            generations=30,
            replicates=400,
            method="sample",
            verifier_accuracy=accuracy,
            progress=False,
            seed=3,
        )
        finals[accuracy] = history.at(30)["var"].to_numpy()
    se = {a: v.std(ddof=1) / np.sqrt(v.size) for a, v in finals.items()}
    assert finals[0.0].mean() + 4 * se[0.0] < finals[0.25].mean() - 4 * se[0.25]
    assert finals[0.25].mean() + 4 * se[0.25] < finals[1.0].mean() + 4 * se[1.0]
    for accuracy in (0.25, 1.0):
        ideal = theory.verified_moments(30, N, accuracy)[0]
        assert finals[accuracy].mean() < ideal + 4 * se[accuracy], (accuracy, finals[accuracy].mean(), ideal)


def test_verified_fixed_point_is_the_recursions_limit_and_perfect_verification_is_real_data():
    for accuracy in (0.1, 0.5, 1.0):
        e, v = theory.verified_moments(5000, N, accuracy)
        assert (e, v) == pytest.approx(theory.verified_fixed_point(N, accuracy), rel=1e-9)
    assert theory.verified_fixed_point(N, 1.0) == pytest.approx(theory.fresh_fixed_point(N, 1.0), rel=1e-12)


@pytest.mark.parametrize("q", [0.5, 0.8])
def test_reward_curation_moves_each_model_to_its_truncated_normal(q):
    """One curated generation: the refit mean and variance are those of the model truncated to
    the interval of mass q around the reward's peak (up to the O(1/N) bias of selection)."""
    n, target = 2000, 1.0
    history = autophagy.run(
        "gaussian",
        samples=n,
        generations=2,
        replicates=400,
        reward_fraction=q,
        reward_target=target,
        method="sample",
        progress=False,
        seed=4,
    )
    first, second = history.at(1), history.at(2)
    mu, sigma = first["mean"].to_numpy(), np.sqrt(first["var"].to_numpy())
    moments = np.array([theory.reward_curation_moments((target - m) / s, q) for m, s in zip(mu, sigma)])
    mean_gap = second["mean"].to_numpy() - (mu + sigma * moments[:, 0])
    var_ratio = second["var"].to_numpy() / (sigma**2 * moments[:, 1])
    assert abs(mean_gap.mean()) < 4 * mean_gap.std(ddof=1) / np.sqrt(mean_gap.size) + 2 / n
    assert abs(var_ratio.mean() - 1) < 4 * var_ratio.std(ddof=1) / np.sqrt(var_ratio.size) + 2 / n


def test_reward_curation_drifts_to_the_reward_peak_and_collapses():
    history = autophagy.run(
        "gaussian",
        samples=N,
        generations=20,
        replicates=200,
        reward_fraction=0.5,
        reward_target=1.0,
        method="sample",
        progress=False,
        seed=6,
    )
    means = history.frame.groupby("generation")["mean"].mean()
    variances = history.frame.groupby("generation")["var"].mean()
    assert np.all(np.diff(variances.to_numpy()[1:]) < 0), "curation shrinks the variance every generation"
    assert abs(means.iloc[-1] - 1.0) < abs(means.iloc[1] - 1.0), "the mean moves towards the reward's peak"


def test_curation_parameters_are_refused_where_they_cannot_act():
    with pytest.raises(ParameterError, match="method=sample"):
        autophagy.run("gaussian", verifier_accuracy=0.5, profile="smoke", progress=False)
    with pytest.raises(ParameterError, match="not both"):
        autophagy.run("gaussian", method="sample", central_fraction=0.5, reward_fraction=0.5, profile="smoke")


@pytest.mark.parametrize("share", [0.3, 0.8])
def test_a_perfect_verifier_on_a_web_pool_passes_what_is_distributed_like_the_truth(share):
    """A pool of real N(0, 1) and a share s of the model's N(0.5, 0.6^2): a perfect verifier
    that knows s (not which samples) accepts in proportion to p_real / p_pool."""
    mu, sigma, n = 0.5, 0.6, 400_000
    rng = np.random.default_rng(12)
    synthetic = rng.random((1, n)) < share
    pool = np.where(synthetic, mu + sigma * rng.standard_normal((1, n)), rng.standard_normal((1, n)))
    verifier = GaussianVerifier(1.0, lambda: _Model(mu, sigma))
    kept = pool[verifier(pool, synthetic.astype(np.int32), rng)]
    assert_mean_close(kept, 0.0, "kept mean")
    assert_variance_close(kept, 1.0, "kept variance")


def test_the_web_loop_with_a_verifier_stays_nearer_the_truth_than_the_plain_web():
    ends = {
        a: autophagy.run(
            "gaussian",
            method="sample",
            mode="web",
            samples=N,
            generations=20,
            replicates=300,
            verifier_accuracy=a,
            web_max=0.9,
            progress=False,
            seed=4,
        )
        .at(20)["w2"]
        .to_numpy()
        for a in (0.0, 0.9)
    }
    gap = ends[0.0].mean() - ends[0.9].mean()
    assert gap > 4 * np.hypot(*(v.std(ddof=1) / np.sqrt(v.size) for v in ends.values()))


# --- self-correction (Gillman et al.) ---------------------------------------------------


@pytest.mark.parametrize("gamma", [0.2, 0.7])
def test_self_corrected_gaussian_moments_follow_their_linear_recursions(gamma):
    n = 40
    h = autophagy.run(
        "gaussian", progress=False, mode="replace", samples=n, generations=30, replicates=4000, self_correction=gamma
    )
    expected = theory.self_correction_moments(30, n, gamma)
    for t in (1, 6, 30):
        rows = h.at(t)
        assert_mean_close(rows["var"], expected["var"][t], f"var t={t}")
        assert_mean_close(rows["mean"] ** 2, expected["mean_var"][t], f"mean^2 t={t}")


def test_self_correction_moves_sufficient_statistics_as_it_moves_the_points():
    from autophagy.mitigations.correction import towards_truth
    from autophagy.models.gaussian import Gaussian, GaussianStats

    model = Gaussian(3, method="sample", mu=0.4, sigma=0.6)
    points = model.sample(50, np.random.default_rng(0))
    stats = GaussianStats(50, points.mean(axis=1), ((points - points.mean(axis=1, keepdims=True)) ** 2).sum(axis=1))
    correct = towards_truth(0.3)
    moved, moved_stats = correct(points, model), correct(stats, model)
    np.testing.assert_allclose(moved.mean(axis=1), moved_stats.mean)
    np.testing.assert_allclose(((moved - moved.mean(axis=1, keepdims=True)) ** 2).sum(axis=1), moved_stats.m2)


def test_full_self_correction_maps_any_model_onto_the_truth():
    from autophagy.mitigations.correction import towards_truth
    from autophagy.models.gaussian import Gaussian

    model = Gaussian(2, method="sample", mu=3.0, sigma=0.2)
    points = towards_truth(1.0)(model.sample(200_000, np.random.default_rng(1)), model)
    assert np.abs(points.mean(axis=1)).max() < 4.5 / np.sqrt(200_000)
    assert np.abs(points.std(axis=1) - 1).max() < 4.5 / np.sqrt(2 * 200_000)


def test_self_correction_recursion_converges_to_its_fixed_point_and_none_recovers_plain_collapse():
    for gamma in (0.05, 0.5):
        limit, path = theory.self_correction_fixed_point(30, gamma), theory.self_correction_moments(3000, 30, gamma)
        for key in ("sigma", "var", "mean_var"):
            assert path[key][-1] == pytest.approx(limit[key], rel=1e-9)
    plain = theory.self_correction_moments(50, 30, 0.0)
    np.testing.assert_allclose(plain["var"], theory.expected_variance(np.arange(51), 30, 0))


def test_image_self_correction_blends_each_sample_with_its_nearest_real_image():
    from autophagy.mitigations.correction import towards_nearest_real

    rng = np.random.default_rng(3)
    pool = rng.integers(0, 256, size=(5000, 6, 6), dtype=np.uint8)
    samples = np.clip(pool[[17, 4321, 999]].astype(int) + rng.integers(-3, 4, size=(3, 6, 6)), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(towards_nearest_real(1.0, pool)(samples), pool[[17, 4321, 999]])
    np.testing.assert_array_equal(towards_nearest_real(0.0, pool)(samples), samples)
    half = towards_nearest_real(0.5, pool)(samples).astype(int)
    assert np.abs(half - (samples.astype(int) + pool[[17, 4321, 999]]) / 2).max() <= 0.5


@pytest.mark.parametrize("knowledge", [10, 1000])
def test_a_verifier_that_learned_from_m_samples_settles_the_loop_at_its_own_error(knowledge):
    h = autophagy.run(
        "gaussian",
        progress=False,
        mode="replace",
        method="sample",
        samples=100,
        generations=10,
        replicates=2000,
        verifier_accuracy=1.0,
        verifier_knowledge=knowledge,
    )
    assert_mean_close(h.at(10)["w2"] ** 2, theory.verified_w2_squared(100, knowledge), f"M={knowledge}")


def test_a_verifier_that_knows_the_truth_settles_where_a_fit_to_real_data_is():
    h = autophagy.run(
        "gaussian", progress=False, mode="replace", method="sample", samples=50, generations=1, replicates=4000
    )
    assert_mean_close(h.at(1)["w2"] ** 2, theory.verified_w2_squared(50, 0), "generation 1")


@pytest.mark.parametrize(
    "params, words",
    [
        ({"verifier_knowledge": 100}, "verifier_accuracy"),
        ({"verifier_accuracy": 1.0, "verifier_knowledge": 1}, "at least 2"),
    ],
)
def test_verifier_knowledge_without_a_verifier_or_too_small_is_refused(params, words):
    with pytest.raises(ParameterError, match=words):
        registry.resolve_config("gaussian", "smoke", method="sample", **params)


# --- verification of synthetic labels: the phase transition ---------------------------------


def test_verified_classifier_accuracy_matches_its_closed_form():
    from autophagy.models.mixture_classifier import verified_accuracies

    frame = verified_accuracies(
        [40, 400], [0.6, 0.8], label_noise=0.7, features=8, separation=1.2, replicates=3000, seed=5
    )
    for (n, a), cell in frame.groupby(["n", "verifier_accuracy"]):
        assert_mean_close(cell["test_accuracy"], theory.verified_classifier_accuracy(n, a, 0.7, 8, 1.2), f"n={n} a={a}")


def test_kept_labels_are_right_more_often_than_not_exactly_when_the_verifier_beats_the_label_noise():
    for p in (0.3, 0.6, 0.9):
        assert theory.kept_label_noise(p, p) == pytest.approx(0.5)
        assert theory.kept_label_noise(p, p + 0.05) < 0.5 < theory.kept_label_noise(p, p - 0.05)


def test_the_transition_sharpens_into_a_step_at_the_label_noise_as_the_kept_data_grow():
    from scipy.stats import norm

    below, above = (theory.verified_classifier_accuracy(10**6, a, 0.7, 20, 1.0) for a in (0.65, 0.75))
    assert below == pytest.approx(1 - norm.cdf(1.0), abs=1e-3) and above == pytest.approx(norm.cdf(1.0), abs=1e-3)


def test_a_verifier_that_keeps_nothing_is_one_line_parameter_error():
    from autophagy.models.mixture_classifier import verified_accuracies

    with pytest.raises(ParameterError, match="keeps nothing") as err:
        verified_accuracies([10], [0.0], label_noise=0.0)
    assert "\n" not in str(err.value)
