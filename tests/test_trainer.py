"""The pieces the neural models share: the trainer, the DDPM samplers and the causal-LM helper."""

from __future__ import annotations

import copy
import types

import numpy as np
import pytest
import torch
from torch import nn

from autophagy.engine.step import Step
from autophagy.models.diffusion import DDPMArchitecture, DDPMTraining, Diffusion, alpha_bars
from autophagy.models.samplers import DDIM, SAMPLERS, Ancestral, make_sampler
from autophagy.models.trainer import EMA, Trainer, batch_index, torch_generator


def _linear(seed: int = 0) -> nn.Linear:
    torch.manual_seed(seed)
    return nn.Linear(3, 2)


def _regression_step(net: nn.Module, x: torch.Tensor, y: torch.Tensor):
    def train_step(k, update):
        update(((net(x) - y) ** 2).mean())

    return train_step


# --- the trainer --------------------------------------------------------------------------


def test_trainer_ema_is_the_hand_computed_ema_of_the_parameter_trajectory():
    net = _linear()
    ema_net = copy.deepcopy(net).requires_grad_(False)
    ema = EMA([(ema_net, net)], rate=0.9)
    trainer = Trainer([net], {"sgd": torch.optim.SGD(net.parameters(), lr=0.1)}, ema=ema)
    x, y = torch.randn(16, 3, generator=torch.Generator().manual_seed(1)), torch.ones(16, 2)
    expected = [p.detach().double().clone() for p in net.parameters()]
    for k in range(12):  # one step at a time, so the trajectory can be read off
        trainer.run(range(k, k + 1), _regression_step(net, x, y))
        decay = min(0.9, (1 + k) / (10 + k))
        expected = [decay * e + (1 - decay) * p.detach().double() for e, p in zip(expected, net.parameters())]
    for e, p in zip(expected, ema_net.parameters()):
        torch.testing.assert_close(p.double(), e, rtol=1e-5, atol=1e-6)
    assert not torch.equal(ema_net.weight, net.weight)  # an average, not a copy of the last weights


def test_trainer_clipping_bounds_the_gradient_norm_of_each_step():
    def grad_norm_after_one_step(clip):
        net = _linear()
        trainer = Trainer([net], {"sgd": torch.optim.SGD(net.parameters(), lr=1e-3)}, clip=clip)
        x, y = torch.randn(16, 3, generator=torch.Generator().manual_seed(1)), torch.full((16, 2), 100.0)
        trainer.run(range(1), _regression_step(net, x, y))
        return float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in net.parameters()])))

    assert grad_norm_after_one_step(None) > 10
    assert grad_norm_after_one_step(0.5) <= 0.5 + 1e-6


def test_trainer_schedule_sets_every_optimisers_learning_rate_at_each_step():
    net, seen = _linear(), []
    opts = {"a": torch.optim.SGD([net.weight], lr=1.0), "b": torch.optim.SGD([net.bias], lr=1.0)}
    trainer = Trainer([net], opts, schedule=lambda k: 0.1 * (k + 1))

    def train_step(k, update):
        seen.append([group["lr"] for opt in opts.values() for group in opt.param_groups])
        update(net.weight.sum(), "a")
        update(net.bias.sum(), "b")

    trainer.run(range(3), train_step)
    np.testing.assert_allclose(seen, [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]])


def test_trainer_steps_only_the_named_optimiser():
    net = _linear()
    weight, bias = net.weight.detach().clone(), net.bias.detach().clone()
    opts = {"weight": torch.optim.SGD([net.weight], lr=0.1), "bias": torch.optim.SGD([net.bias], lr=0.1)}
    Trainer([net], opts).run(range(2), lambda k, update: update(net(torch.ones(1, 3)).sum(), "weight"))
    assert not torch.equal(net.weight, weight) and torch.equal(net.bias, bias)


def test_trainer_leaves_its_networks_in_eval_mode():
    net = nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.5))
    modes = []
    trainer = Trainer([net], {"sgd": torch.optim.SGD(net.parameters(), lr=0.1)})
    trainer.run(range(1), lambda k, update: (modes.append(net.training), update(net(torch.ones(2, 3)).sum())))
    assert modes == [True] and not net.training


def test_the_same_numpy_seed_gives_the_same_torch_numbers_and_batches():
    data = torch.arange(100.0)
    a, b = torch_generator(np.random.default_rng(3)), torch_generator(np.random.default_rng(3))
    torch.testing.assert_close(batch_index(data, 8, a), batch_index(data, 8, b))
    assert len(batch_index(data[:5], 8, a)) == 5  # never more rows than the data has


@pytest.mark.parametrize("kind", ["ddpm", "gan", "gpt"])
def test_the_same_seed_gives_identical_weights_twice(kind):
    from autophagy.models.gan import GANArchitecture, GANTraining, StyleGAN
    from autophagy.models.transformer import GPT, GPTArchitecture, GPTTraining

    images = np.random.default_rng(0).integers(0, 256, (16, 28, 28)).astype(np.uint8)
    make, data = {
        "ddpm": (
            lambda: Diffusion(
                DDPMArchitecture(channels=4, timesteps=10),
                DDPMTraining(steps=3, batch_size=4),
                sample_steps=2,
                progress=False,
            ),
            images,
        ),
        "gan": (
            lambda: StyleGAN(GANArchitecture(channels=4, z_dim=8), GANTraining(steps=3, batch_size=4), progress=False),
            images,
        ),
        "gpt": (
            lambda: GPT(
                GPTArchitecture(vocab_size=20, context=7, d_model=8, layers=1, heads=2),
                GPTTraining(batch_size=4),
                block_len=6,
            ),
            np.random.default_rng(0).integers(0, 20, (12, 6)),
        ),
    }[kind]
    first, second = make(), make()
    for model in (first, second):
        model.fit(data, Step(np.random.default_rng(7)))
    a, b = first.state_dict(), second.state_dict()
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    other = make()
    other.fit(data, Step(np.random.default_rng(8)))
    assert any(not np.array_equal(a[k], other.state_dict()[k]) for k in a)


# --- the DDPM samplers --------------------------------------------------------------------


def _eps_oracle(net: nn.Module):
    """A stand-in noise predictor: any deterministic function of (x_t, t)."""

    def eps(x, t):
        with torch.no_grad():
            return net(x) * 0.1 + t * 1e-3

    return eps


def test_sampler_names_map_to_the_classes():
    abar = alpha_bars("cosine", 20)
    assert SAMPLERS == {"ddim": DDIM, "ancestral": Ancestral}
    assert isinstance(make_sampler("ddim", abar, 5), DDIM) and make_sampler("ddim", abar, 5).passes == 5
    assert isinstance(make_sampler("ancestral", abar, 5), Ancestral) and make_sampler("ancestral", abar, 5).passes == 20
    assert make_sampler("ddim", abar, 50).passes == 20  # never more steps than the schedule has
    with pytest.raises(ValueError, match="ddim, ancestral"):
        make_sampler("euler", abar, 5)


@pytest.mark.parametrize("name", ["ddim", "ancestral"])
def test_samplers_give_images_of_the_noises_shape_in_range(name):
    sampler = make_sampler(name, alpha_bars("linear", 30), 6)
    noise = torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    out = sampler.sample(_eps_oracle(nn.Conv2d(1, 1, 3, padding=1)), noise, torch.Generator().manual_seed(1))
    assert out.shape == noise.shape and torch.isfinite(out).all()
    assert out.abs().max() <= 1 + 1e-5  # the last step returns the clipped x_0 prediction


def test_ddim_is_deterministic_given_the_noise_and_ancestral_given_its_generator():
    eps = _eps_oracle(nn.Conv2d(1, 1, 3, padding=1))
    abar = alpha_bars("cosine", 25)
    noise = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    ddim = DDIM(abar, 8)
    torch.testing.assert_close(
        ddim.sample(eps, noise, torch.Generator().manual_seed(1)),
        ddim.sample(eps, noise, torch.Generator().manual_seed(2)),
        rtol=0,
        atol=0,
    )
    ancestral = Ancestral(abar)
    same = [ancestral.sample(eps, noise, torch.Generator().manual_seed(1)) for _ in range(2)]
    torch.testing.assert_close(same[0], same[1], rtol=0, atol=0)
    assert not torch.equal(same[0], ancestral.sample(eps, noise, torch.Generator().manual_seed(2)))


def test_diffusion_samples_with_its_sampler_class():
    architecture = DDPMArchitecture(channels=4, timesteps=12)
    model = Diffusion(architecture, sampler="ancestral", sample_steps=3, progress=False)
    assert isinstance(model.sampler, Ancestral) and model.sampler.passes == 12
    assert isinstance(Diffusion(architecture, sample_steps=3, progress=False).sampler, DDIM)


# --- the causal-LM helper -----------------------------------------------------------------


def _direct_logprobs(logits: torch.Tensor, blocks: torch.Tensor) -> np.ndarray:
    return torch.log_softmax(logits.double(), -1).gather(2, blocks[..., None])[..., 0].numpy()


def test_gpt_token_logprobs_are_the_log_softmax_of_its_logits_at_each_token():
    from autophagy.models.transformer import GPT, GPTArchitecture

    model = GPT(GPTArchitecture(vocab_size=30, context=8, d_model=8, layers=1, heads=2), block_len=7)
    model.net.init_weights(torch.Generator().manual_seed(0))
    blocks = np.random.default_rng(0).integers(0, 30, (5, 7))
    ids = torch.as_tensor(blocks)
    bos = torch.full((5, 1), 30)
    with torch.no_grad():
        logits, _ = model.net(torch.cat([bos, ids[:, :-1]], 1))
    np.testing.assert_allclose(model.token_logprobs(blocks), _direct_logprobs(logits, ids), rtol=1e-5, atol=1e-6)
    assert model.perplexity(blocks) == pytest.approx(np.exp(-_direct_logprobs(logits, ids).mean()), rel=1e-5)


def test_pretrained_token_logprobs_are_the_log_softmax_of_its_logits_after_bos(monkeypatch):
    """A tiny Llama of the same class stands in for SmolLM2 (no 30 s load)."""
    transformers = pytest.importorskip("transformers")
    from autophagy.models import smollm2

    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=40,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=32,
    )
    tiny = transformers.LlamaForCausalLM(config).eval()
    monkeypatch.setattr(smollm2, "load", lambda device=None: (tiny, types.SimpleNamespace(bos_token_id=1)))
    model = smollm2.SmolLM2(block_len=6, epochs=4, batch_size=3, lr=1e-2, progress=False)
    blocks = np.random.default_rng(0).integers(0, 40, (3, 6))
    ids = torch.as_tensor(blocks)
    with torch.no_grad():
        logits = tiny(torch.cat([torch.ones(3, 1, dtype=torch.long), ids[:, :-1]], 1)).logits
    np.testing.assert_allclose(model.token_logprobs(blocks), _direct_logprobs(logits, ids), rtol=1e-5, atol=1e-6)
    before = model.token_logprobs(blocks)
    model.fit(blocks, Step(np.random.default_rng(0)))  # fine-tuning on the blocks makes them likelier
    assert model.token_logprobs(blocks).mean() > before.mean()
