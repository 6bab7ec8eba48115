"""Time the image models at the default profile: sampling and training speed, with FID.

- DDPM on MNIST: images per second of the DDIM sampler (``sample_steps`` steps) against the
  ancestral sampler (all T steps), on the same generation-1 model and the same number of
  images, each with its FID against real test images; training steps per second.
- Style GAN on Fashion-MNIST: images per second at psi = 1 and 0.7 with FID; training steps
  per second.

The generation-1 models are the ones the chapter trains (the first-fit cache is shared), so
after ``make book`` only the timed parts run. FID here uses ``IMAGES`` samples and reference
images, so it is comparable across the rows of one model only.

Run: ``python benchmarks/bench_images.py``. ``main()`` prints the table and returns its rows.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from autophagy.data.images import DATASETS
from autophagy.engine.step import Step
from autophagy.experiments import images as exp
from autophagy.experiments import resolve_config
from autophagy.metrics.image import ImageScorer
from autophagy.models.image_classifier import classifier

IMAGES = 200  # images per sampler (the ancestral sampler runs T = 1000 network calls each)
TRAIN_STEPS = 20


def _first_generation(name: str, dataset: str):
    """The generation-1 model of ``name`` at the default profile (the shipped starting model),
    its parameters, a scorer against real test images and the real training images."""
    params = resolve_config(name, profile="default")[1]["params"]
    net = classifier(dataset, params["classifier_images"], progress=False)
    model = exp.first_generation(name, profile="default")
    scorer = ImageScorer(net, DATASETS[dataset]("test")[0][:IMAGES])
    return model, params, scorer, exp.RealImages(DATASETS[dataset]("train")[0])


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _train_rate(fresh_model, data) -> float:
    """Training steps per second of a fresh model (one cold fit of TRAIN_STEPS steps)."""
    fresh_model.training = dataclasses.replace(fresh_model.training, steps=TRAIN_STEPS)
    _, seconds = _timed(lambda: fresh_model.fit(data, Step(np.random.default_rng(0))))
    return TRAIN_STEPS / seconds


def main() -> list[dict]:
    rows = []
    ddpm, params, scorer, train = _first_generation("mnist-ddpm", "mnist")
    for sampler in ("ddim", "ancestral"):
        ddpm.sampler = sampler
        samples, seconds = _timed(lambda: ddpm.sample(IMAGES, np.random.default_rng(1)))
        calls = params["sample_steps"] if sampler == "ddim" else params["timesteps"]
        rows.append(
            {
                "model": "DDPM",
                "task": f"sample {sampler} ({calls} steps)",
                "rate": IMAGES / seconds,
                "unit": "images/s",
                "fid": scorer(samples)["fid"],
            }
        )
    data = train.sample(params["samples"], np.random.default_rng(2))
    fresh = exp.sampling_model("mnist-ddpm", params, classifier("mnist", params["classifier_images"], progress=False))
    rows.append(
        {
            "model": "DDPM",
            "task": f"train (batch {params['batch_size']})",
            "rate": _train_rate(fresh, data),
            "unit": "steps/s",
            "fid": np.nan,
        }
    )

    gan, params, scorer, train = _first_generation("fashion-gan", "fashion-mnist")
    for psi in (1.0, 0.7):
        gan.psi = psi
        samples, seconds = _timed(lambda: gan.sample(IMAGES, np.random.default_rng(1)))
        rows.append(
            {
                "model": "GAN",
                "task": f"sample psi={psi}",
                "rate": IMAGES / seconds,
                "unit": "images/s",
                "fid": scorer(samples)["fid"],
            }
        )
    data = train.sample(params["samples"], np.random.default_rng(2))
    fresh = exp.sampling_model("fashion-gan", params, None)
    rows.append(
        {
            "model": "GAN",
            "task": f"train (batch {params['batch_size']})",
            "rate": _train_rate(fresh, data),
            "unit": "steps/s",
            "fid": np.nan,
        }
    )
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    return rows


if __name__ == "__main__":
    main()
