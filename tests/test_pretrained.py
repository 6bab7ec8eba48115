"""Shipped starting models: checked by checksum, loaded without pickle, rebuilt by a resumable
``autophagy pretrain``, and good enough on held-out data that a loop starting from them has
something to lose (generation 1 of every neural loop is the shipped model)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil

import numpy as np
import pytest

from autophagy import pretrain as pretraining
from autophagy import weights
from autophagy.cli import main
from autophagy.data import DataError
from autophagy.experiments.images import first_generation
from autophagy.metrics.image import image_quality
from autophagy.models.starting import network
from autophagy.models.transformer import GPTArchitecture
from autophagy.params import ParameterError

NAMES = sorted(pretraining.RECIPES)


def cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def test_every_recipe_has_a_shipped_model_and_they_fit_the_size_budget():
    assert set(NAMES) == {"mnist-ddpm", "fashion-gan", "wiki-gpt", "colored-mnist-ddpm"}
    total = sum((weights.FOLDER / f"{name}.safetensors").stat().st_size for name in NAMES)
    assert total < 25 * 2**20


@pytest.mark.parametrize("name", NAMES)
def test_shipped_weights_match_their_card(name):
    card = weights.card(name)
    blob = (weights.FOLDER / f"{name}.safetensors").read_bytes()
    assert hashlib.sha256(blob).hexdigest() == card["sha256"]
    arrays = weights.load(name)
    assert all(a.dtype == np.float32 and np.isfinite(a).all() for a in arrays.values())
    assert sum(a.size for a in arrays.values()) == card["parameters"]
    recipe = pretraining.RECIPES[name]
    assert card["command"] == f"autophagy pretrain {name}" and card["recipe"] == recipe.hyper
    assert type(recipe.architecture)(**card["architecture"]) == recipe.architecture


def test_a_process_reads_the_weights_once_and_no_caller_can_change_them():
    first, second = weights.load("wiki-gpt"), weights.load("wiki-gpt")
    assert first is not second and all(first[k] is second[k] for k in first)
    assert not any(a.flags.writeable for a in first.values())


def test_the_network_of_a_run_is_the_cards_when_pretrained_and_built_from_the_parameters_otherwise():
    card = weights.card("wiki-gpt")["architecture"]
    params = {"vocab_size": 2048, "d_model": 128, "layers": 4, "heads": 4, "pretrained": True}
    architecture, start = network("wiki-gpt", GPTArchitecture, params, context=65)
    assert architecture == GPTArchitecture(**card) and architecture.context == card["context"]
    assert start.keys() == weights.load("wiki-gpt").keys()
    with pytest.raises(
        ParameterError, match="^layers=2 differs from the starting model's layers=4: .*pretrained=false"
    ):
        network("wiki-gpt", GPTArchitecture, {**params, "layers": 2})
    scratch, none = network("wiki-gpt", GPTArchitecture, {**params, "layers": 2, "pretrained": False}, context=65)
    assert scratch == GPTArchitecture(vocab_size=2048, context=65, d_model=128, layers=2, heads=4) and none is None


@pytest.mark.parametrize("damage", ["flip", "truncate", "missing"])
def test_damaged_weights_are_one_line_naming_the_command_that_rebuilds_them(tmp_path, damage):
    for suffix in (".safetensors", ".json"):
        shutil.copy(weights.FOLDER / f"wiki-gpt{suffix}", tmp_path)
    path = tmp_path / "wiki-gpt.safetensors"
    blob = bytearray(path.read_bytes())
    if damage == "flip":
        blob[len(blob) // 2] ^= 0xFF
        path.write_bytes(bytes(blob))
    elif damage == "truncate":
        path.write_bytes(bytes(blob[: len(blob) // 3]))
    else:
        path.unlink()
    with pytest.raises(DataError) as err:
        weights.load("wiki-gpt", tmp_path)
    message = str(err.value)
    assert "\n" not in message and "autophagy pretrain wiki-gpt" in message


def test_pretrain_of_an_unknown_model_is_one_line_and_exit_2():
    code, err = cli(["pretrain", "imagenet-vit"])
    assert code == 2 and err.count("\n") == 1 and "mnist-ddpm" in err


def test_pretrain_into_an_unwritable_folder_is_refused_before_training(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, err = cli(["pretrain", "wiki-gpt", "--out", str(blocker / "weights"), "--quiet"])
    assert code == 2 and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_architecture_that_differs_from_the_starting_model_is_refused(tmp_path):
    code, err = cli(
        ["run", "mnist-ddpm", "--out", str(tmp_path / "run"), "--profile", "smoke", "--set", "channels=8", "--quiet"]
    )
    assert code == 2 and "pretrained=false" in err and not (tmp_path / "run").exists()


def _tiny_gpt_recipe(steps: int) -> pretraining.Recipe:
    return pretraining.Recipe(
        name="tiny-gpt",
        summary="a tiny GPT for tests",
        data="the training articles",
        architecture=GPTArchitecture(vocab_size=2048, context=17, d_model=16, layers=1, heads=2),
        hyper=dict(loop_block_len=16, batch_size=8, lr=2e-3, steps=steps, seed=0),
        build=pretraining.RECIPES["wiki-gpt"].build,
        chunk=2,
    )


def test_an_interrupted_pretrain_resumes_to_the_same_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path / "cache"))
    recipe = _tiny_gpt_recipe(steps=6)
    monkeypatch.setitem(pretraining.RECIPES, recipe.name, recipe)
    whole = pretraining.pretrain(recipe.name, tmp_path / "whole", progress=False)

    calls = []

    def interrupted(architecture, hyper):
        trainee = recipe.build(architecture, hyper)
        train = trainee.train

        def train_until_second_chunk(steps, generator):
            calls.append(steps.start)
            if steps.start >= 4:
                raise KeyboardInterrupt
            train(steps, generator)

        trainee.train = train_until_second_chunk
        return trainee

    monkeypatch.setitem(
        pretraining.RECIPES, recipe.name, pretraining.Recipe(**{**recipe.__dict__, "build": interrupted})
    )
    with pytest.raises(KeyboardInterrupt):
        pretraining.pretrain(recipe.name, tmp_path / "resumed", progress=False)
    assert calls == [0, 2, 4] and not (tmp_path / "resumed" / "tiny-gpt.safetensors").exists()
    monkeypatch.setitem(pretraining.RECIPES, recipe.name, recipe)
    resumed = pretraining.pretrain(recipe.name, tmp_path / "resumed", progress=False)
    assert resumed["sha256"] == whole["sha256"]
    assert (tmp_path / "resumed" / "tiny-gpt.safetensors").read_bytes() == (
        tmp_path / "whole" / "tiny-gpt.safetensors"
    ).read_bytes()


def test_generation_one_of_the_image_loop_is_the_shipped_model():
    model = first_generation("mnist-ddpm", profile="smoke")
    shipped = weights.load("mnist-ddpm")
    state = {k: v.detach().cpu().numpy() for k, v in model.ema_net.state_dict().items()}
    assert all(np.array_equal(state[k], shipped[k]) for k in shipped)


# --- quality of generation 1, on held-out data, as the loops sample it ---------------------


@pytest.mark.slow
def test_ddpm_generation_one_draws_digits_the_classifier_recognises():
    model = first_generation("mnist-ddpm", profile="default", sample_steps=20)
    quality = image_quality(model, "mnist", samples=300, conditional=True)
    assert quality["confidence"] >= 0.9  # real test digits: about 0.98
    assert quality["fid"] <= 3 * quality["fid_real"]
    assert quality["classes_present"] == 10
    assert quality["label_agreement"] >= 0.9


@pytest.mark.slow
def test_gan_generation_one_is_close_to_fashion_mnist_in_every_class():
    model = first_generation("fashion-gan", profile="default")
    quality = image_quality(model, "fashion-mnist", samples=300)
    assert quality["fid"] <= 3 * quality["fid_real"]
    assert quality["classes_present"] == 10


@pytest.mark.slow
def test_gpt_generation_one_beats_the_trigram_and_writes_text_as_varied_as_real_text():
    from autophagy.metrics.text import text_quality
    from autophagy.models.transformer import GPT

    card = weights.card("wiki-gpt")
    architecture, block_len = GPTArchitecture(**card["architecture"]), card["recipe"]["loop_block_len"]
    model = GPT(architecture, block_len=block_len)
    model.start_from(weights.load("wiki-gpt"))
    quality = text_quality(model, block_len, architecture.vocab_size)
    assert quality["perplexity_test"] < quality["perplexity_test_trigram"]
    assert abs(quality["distinct_2"] - quality["distinct_2_real"]) <= 0.1 * quality["distinct_2_real"]
