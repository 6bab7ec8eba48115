"""The neural models' device: ``default_device``, ``AUTOPHAGY_DEVICE`` and CPU checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autophagy.engine.step import Step
from autophagy.models import image_classifier
from autophagy.models.device import default_device
from autophagy.models.diffusion import DDPMArchitecture, DDPMTraining, Diffusion
from autophagy.models.gan import GANArchitecture, GANTraining, StyleGAN
from autophagy.models.transformer import GPT, GPTArchitecture, GPTTraining


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _images(n=32):
    return np.random.default_rng(0).integers(0, 256, (n, 28, 28)).astype(np.uint8)


def _models():
    return {
        "diffusion": (
            Diffusion(
                DDPMArchitecture(channels=4, timesteps=10),
                DDPMTraining(steps=2, batch_size=8),
                sample_steps=3,
                warm_steps=1,
                progress=False,
            ),
            _images(),
        ),
        "gan": (
            StyleGAN(
                GANArchitecture(channels=4, z_dim=8), GANTraining(steps=2, batch_size=8), warm_steps=1, progress=False
            ),
            _images(),
        ),
        "gpt": (
            GPT(
                GPTArchitecture(vocab_size=20, context=9, d_model=8, layers=1, heads=2),
                GPTTraining(batch_size=4),
                block_len=8,
            ),
            np.random.default_rng(0).integers(0, 20, (12, 8)),
        ),
    }


def test_default_device_follows_torch_and_honours_the_variable(monkeypatch):
    expected = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.delenv("AUTOPHAGY_DEVICE", raising=False)
    assert default_device() == expected
    for value in ("", "auto", " AUTO "):
        monkeypatch.setenv("AUTOPHAGY_DEVICE", value)
        assert default_device() == expected
    for value in ("cpu", "CPU", " cpu "):
        monkeypatch.setenv("AUTOPHAGY_DEVICE", value)
        assert default_device() == torch.device("cpu")


@pytest.mark.parametrize("value", ["gpu", "cuda:x", "cpu,cuda"])
def test_an_invalid_device_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("AUTOPHAGY_DEVICE", value)
    with pytest.raises(ValueError, match=f"AUTOPHAGY_DEVICE={value!r} is not a torch device"):
        default_device()
    with pytest.raises(ValueError, match="AUTOPHAGY_DEVICE"):  # models fail at construction, clearly
        Diffusion(DDPMArchitecture(channels=4), progress=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_cuda_without_a_gpu_names_the_variable(monkeypatch):
    monkeypatch.setenv("AUTOPHAGY_DEVICE", "cuda")
    with pytest.raises(ValueError, match="AUTOPHAGY_DEVICE='cuda' asks for CUDA"):
        default_device()


@pytest.mark.parametrize("name", ["diffusion", "gan", "gpt"])
def test_models_on_the_cpu_keep_numpy_checkpoints_that_round_trip(monkeypatch, name):
    monkeypatch.setenv("AUTOPHAGY_DEVICE", "cpu")
    model, data = _models()[name]
    assert model.device == torch.device("cpu")
    model.fit(data, Step(np.random.default_rng(0)))
    state = model.state_dict()
    assert state and all(type(v) is np.ndarray for v in state.values())
    # a copy, not a view of the live weights: a later fit leaves the checkpoint alone
    saved = {k: v.copy() for k, v in state.items()}
    model.fit(data, Step(np.random.default_rng(1), generation=2))
    assert all(np.array_equal(saved[k], v) for k, v in state.items())
    restored, _ = _models()[name]
    restored.load_state_dict(state)
    for k, v in restored.state_dict().items():
        np.testing.assert_array_equal(v, state[k])
    if name == "gpt":
        out = restored.token_logprobs(data[:3])
        assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == (3, 8)
    else:
        out = restored.sample(3, np.random.default_rng(2))
        assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.shape == (3, 28, 28)


def test_the_metric_classifier_trains_on_the_chosen_device_and_returns_numpy(monkeypatch):
    monkeypatch.setenv("AUTOPHAGY_DEVICE", "cpu")
    images, labels = _images(64), np.arange(64) % 10
    net = image_classifier.train_classifier(images, labels, epochs=1, width=4, progress=False)
    assert {p.device for p in net.parameters()} == {torch.device("cpu")}
    feats = net.features(images[:5])
    assert isinstance(feats, np.ndarray) and feats.shape == (5, image_classifier.FEATURES) and feats.dtype == np.float64
