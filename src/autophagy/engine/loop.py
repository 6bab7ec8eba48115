"""The self-consuming loop: fit, sample, build the next training set, repeat.

The loop knows nothing of images or text. A *model* is any object with

- ``fit(data, rng)``: train on ``data`` (a neural model may warm-start from its current
  weights);
- ``sample(n, rng)``: ``n`` new samples;
- ``state_dict()`` / ``load_state_dict(state)``: a flat ``{name: numpy array}`` for
  checkpoints;
- ``batched``: True when one object holds every replicate (data then has the replicates
  on axis 0 and the samples on axis 1, and metrics return one value per replicate).

Generation 0 is the truth; generation 1 is fitted on real data only; the training set of
generation t + 1 is built from generation t by the mode (see :data:`MODES`).

The ``web`` modes stand for the uncontrolled web: each generation scrapes n samples of which a
share :meth:`LoopSettings.synthetic_share` (growing with time, chosen by no one) comes from
the previous generation's model. Their ``filter`` hook (a detector, provenance labels, a
watermark test) screens the whole scrape, real samples included, so its errors cost real data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import trainsets

MODES = {
    "replace": "n samples of the previous generation (fully synthetic loop)",
    "augment": "the fixed real set plus synthetic_ratio * n samples of the previous generation",
    "fresh": "real_fraction * n new real samples, the rest from the previous generation",
    "accumulate": "every real and synthetic sample so far",
    "accumulate-subsample": "n samples drawn from everything so far (a fixed data budget)",
    "web": "n samples scraped from a web whose synthetic share grows each generation, unlabelled",
    "web-accumulate": "every web scrape so far",
    "web-accumulate-subsample": "n samples drawn from every web scrape so far (a fixed data budget)",
}
WEB_MODES = ("web", "web-accumulate", "web-accumulate-subsample")


class Model(Protocol):
    batched: bool

    def fit(self, data: Any, rng: np.random.Generator) -> None: ...

    def sample(self, n: int, rng: np.random.Generator) -> Any: ...

    def state_dict(self) -> dict[str, np.ndarray]: ...

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None: ...


class Selector(Protocol):
    """Sampling bias or curation: keeps ``n`` of ``draw_factor * n`` candidate samples."""

    draw_factor: float

    def __call__(self, samples: Any, n: int, rng: np.random.Generator) -> Any: ...


def fresh_real_count(real_fraction: float, n: int) -> int:
    """Real samples in a ``fresh`` training set of ``n``: real_fraction * n rounded, at least one."""
    return min(n, max(1, round(real_fraction * n)))


@dataclass
class LoopSpec:
    """What an experiment plugs into the loop.

    ``real(n, rng)`` draws n real samples (shaped like the model's data); ``metrics(model,
    rng)`` returns named numbers (arrays over replicates for a batched model); ``truth`` is
    what ``metrics`` sees at generation 0.
    """

    make_model: Callable[[], Model]
    real: Callable[[int, np.random.Generator], Any]
    metrics: Callable[[Any, np.random.Generator], dict[str, Any]]
    truth: Any
    select: Selector | None = None
    filter: Callable[[Any, np.ndarray, np.random.Generator], np.ndarray] | None = None
    """``filter(samples, origin, rng)`` returns a mask of the samples to keep, shaped like
    ``origin`` (the samples' leading axes: (n,), or (replicates, n) for a batched model). In
    the web modes it screens each scrape; in the others, each generation's synthetic samples.
    The loop draws again until ``n`` samples pass."""


@dataclass
class LoopSettings:
    generations: int
    samples: int
    mode: str = "replace"
    replicates: int = 1
    seed: int = 0
    real_fraction: float = 0.1
    synthetic_ratio: float = 1.0
    web_start: float = 0.2
    web_growth: float = 0.2
    web_max: float = 0.9

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}: expected one of {', '.join(MODES)}")

    @classmethod
    def from_config(cls, config: dict[str, Any], seed: int) -> "LoopSettings":
        """The settings named in an experiment's resolved parameters."""
        known = ("real_fraction", "synthetic_ratio", "web_start", "web_growth", "web_max")
        return cls(generations=config["generations"], samples=config["samples"], mode=config["mode"],
                   replicates=config["replicates"], seed=seed, **{k: config[k] for k in known if k in config})

    def synthetic_share(self, generation: int) -> float:
        """Web modes: the synthetic share of generation ``generation``'s scrape (0 at generation 1,
        ``web_start`` at 2, then ``web_growth`` more each generation, at most ``web_max``)."""
        if generation < 2:
            return 0.0
        return min(self.web_max, self.web_start + self.web_growth * (generation - 2))


_KEPT_DATA = {"real_set": "real_origin", "pool": "pool_origin"}  # data kept across generations
MAX_DRAWS = 1000  # draws of n samples a filter may reject before the loop gives up


@dataclass
class _Unit:
    """One independent chain: a model and the data it keeps between generations."""

    model: Model
    real_set: Any = None
    real_origin: np.ndarray | None = None
    pool: Any = None
    pool_origin: np.ndarray | None = None
    real_drawn: int = 0  # real samples drawn for the current generation (filtered ones included)

    def state(self) -> dict[str, np.ndarray]:
        out = {f"model/{k}": np.asarray(v) for k, v in self.model.state_dict().items()}
        for name, origin in _KEPT_DATA.items():
            value = getattr(self, name)
            if value is not None:
                out.update({f"{name}/{k}": v for k, v in trainsets.encode(value).items()})
                out[origin] = getattr(self, origin)
        return out

    def restore(self, state: dict[str, np.ndarray]) -> None:
        self.model.load_state_dict(_sub(state, "model"))
        for name, origin in _KEPT_DATA.items():
            part = _sub(state, name)
            if part:
                setattr(self, name, trainsets.decode(part))
                setattr(self, origin, state[origin])


def _sub(state: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    head = prefix + "/"
    return {k[len(head):]: v for k, v in state.items() if k.startswith(head)}


def rng_for(seed: int, unit: int, generation: int) -> np.random.Generator:
    """The random stream of one unit at one generation: runs resume without saved RNG state."""
    return np.random.default_rng([seed, unit, generation])


class _Loop:
    def __init__(self, spec: LoopSpec, settings: LoopSettings):
        self.spec = spec
        self.cfg = settings
        first = spec.make_model()
        self.batched = bool(getattr(first, "batched", False))
        self.axis = 1 if self.batched else 0
        count = 1 if self.batched else settings.replicates
        self.units = [_Unit(first)] + [_Unit(spec.make_model()) for _ in range(count - 1)]

    def draw(self, unit: _Unit, n: int, rng) -> Any:
        """``n`` samples of ``unit``'s current model, after the select hook."""
        select = self.spec.select
        if not select:
            return unit.model.sample(n, rng)
        return select(unit.model.sample(math.ceil(n * select.draw_factor), rng), n, rng)

    def synthetic(self, unit: _Unit, n: int, generation: int, rng) -> tuple[Any, np.ndarray]:
        """``n`` samples of ``unit``'s current model, after the select and filter hooks."""

        def draw() -> tuple[Any, np.ndarray]:
            samples = self.draw(unit, n, rng)
            return samples, np.full(trainsets.size(samples, self.axis), generation, dtype=np.int32)

        return self.collect(draw, n, rng)

    def scrape(self, unit: _Unit, generation: int, rng) -> tuple[Any, np.ndarray]:
        """Web modes: n samples of a web whose share ``synthetic_share(generation)`` is the
        previous generation's output (unlabelled), that pass the filter hook."""
        n = self.cfg.samples
        n_synth = round(self.cfg.synthetic_share(generation) * n)

        def draw() -> tuple[Any, np.ndarray]:
            parts, origins = [], []
            if n_synth < n:
                parts.append(self.real(unit, n - n_synth, rng))
                origins.append(np.zeros(n - n_synth, dtype=np.int32))
            if n_synth:
                parts.append(self.draw(unit, n_synth, rng))
                origins.append(np.full(n_synth, generation - 1, dtype=np.int32))
            return trainsets.concat(parts, self.axis), trainsets.concat_origin(origins)

        return self.collect(draw, n, rng)

    def collect(self, draw: Callable[[], tuple[Any, np.ndarray]], n: int, rng) -> tuple[Any, np.ndarray]:
        """``n`` samples (per replicate) of ``draw()`` that pass the filter hook, drawing again
        while too few pass; a random subset of them when more do."""
        data, origin = draw()
        if not self.spec.filter:
            return data, origin
        if self.batched:
            origin = np.broadcast_to(origin, (self.cfg.replicates, origin.shape[-1]))
        kept = self.spec.filter(data, origin, rng)
        for _ in range(MAX_DRAWS - 1):
            if kept.sum(axis=-1).min() >= n:
                break
            more, more_origin = draw()
            if self.batched:
                more_origin = np.broadcast_to(more_origin, origin.shape[:-1] + more_origin.shape[-1:])
            kept = np.concatenate([kept, self.spec.filter(more, more_origin, rng)], axis=-1)
            data = trainsets.concat([data, more], self.axis)
            origin = trainsets.concat_origin([origin, more_origin])
        else:
            raise ValueError(f"the filter passed fewer than {n} of {MAX_DRAWS} draws of {n} samples")
        # kept samples get random keys in [0, 1), dropped ones 2: the n smallest are kept ones
        keys = np.where(kept, rng.random(kept.shape), 2.0)
        return trainsets.pick(data, origin, keys, n, self.axis)

    def real(self, unit: _Unit, n: int, rng) -> Any:
        """``n`` real samples, counted in ``unit.real_drawn``."""
        unit.real_drawn += n
        return self.spec.real(n, rng)

    def training_set(self, unit: _Unit, generation: int, rng) -> tuple[Any, np.ndarray]:
        """The training set of ``generation`` (built from generation - 1 by the mode)."""
        n, cfg = self.cfg.samples, self.cfg
        if cfg.mode in WEB_MODES:
            data, origin = self.scrape(unit, generation, rng)
            if cfg.mode == "web":
                return data, origin
            if generation > 1:
                data = trainsets.concat([unit.pool, data], self.axis)
                origin = trainsets.concat_origin([unit.pool_origin, origin])
            unit.pool, unit.pool_origin = data, origin
            if cfg.mode == "web-accumulate":
                return data, origin
            return trainsets.subsample(data, origin, n, rng, self.axis)
        if generation == 1:
            real, origin = self.real(unit, n, rng), np.zeros(n, dtype=np.int32)
            if cfg.mode == "augment":
                unit.real_set, unit.real_origin = real, origin
            if cfg.mode.startswith("accumulate"):
                unit.pool, unit.pool_origin = real, origin
            return real, origin
        made_by = generation - 1
        if cfg.mode == "replace":
            return self.synthetic(unit, n, made_by, rng)
        if cfg.mode == "augment":
            extra = max(1, round(cfg.synthetic_ratio * n))
            synth, origin = self.synthetic(unit, extra, made_by, rng)
            return (
                trainsets.concat([unit.real_set, synth], self.axis),
                trainsets.concat_origin([unit.real_origin, origin]),
            )
        if cfg.mode == "fresh":
            n_real = fresh_real_count(cfg.real_fraction, n)
            parts, origins = [self.real(unit, n_real, rng)], [np.zeros(n_real, dtype=np.int32)]
            if n_real < n:
                synth, origin = self.synthetic(unit, n - n_real, made_by, rng)
                parts.append(synth)
                origins.append(origin)
            return trainsets.concat(parts, self.axis), trainsets.concat_origin(origins)
        synth, origin = self.synthetic(unit, n, made_by, rng)
        unit.pool = trainsets.concat([unit.pool, synth], self.axis)
        unit.pool_origin = trainsets.concat_origin([unit.pool_origin, origin])
        if cfg.mode == "accumulate":
            return unit.pool, unit.pool_origin
        return trainsets.subsample(unit.pool, unit.pool_origin, n, rng, self.axis)

    def block(self, generation: int, unit_index: int, values: dict[str, Any], train, origin,
              real_drawn: int = 0) -> dict[str, np.ndarray]:
        """Tidy columns, one row per replicate, for one unit's metrics at one generation."""
        reps = self.cfg.replicates if self.batched else 1
        first = 0 if self.batched else unit_index
        if origin is None:
            size, share = 0, np.full(reps, np.nan)
        else:
            size = trainsets.size(train, self.axis)
            share = np.broadcast_to(np.asarray(trainsets.real_share(origin), dtype=float), (reps,))
        return {
            "generation": np.full(reps, generation),
            "replicate": np.arange(first, first + reps),
            "train_size": np.full(reps, size),
            "real_share": share,
            "real_drawn": np.full(reps, real_drawn),
            **{k: np.broadcast_to(np.asarray(v, dtype=float), (reps,)) for k, v in values.items()},
        }

    def generation_zero(self) -> list[dict[str, np.ndarray]]:
        return [
            self.block(0, u, self.spec.metrics(self.spec.truth, rng_for(self.cfg.seed, u, 0)), None, None)
            for u in range(len(self.units))
        ]

    def step(self, generation: int) -> list[dict[str, np.ndarray]]:
        blocks = []
        for u, unit in enumerate(self.units):
            rng = rng_for(self.cfg.seed, u, generation)
            unit.real_drawn = 0
            train, origin = self.training_set(unit, generation, rng)
            unit.model.fit(train, rng)
            values = self.spec.metrics(unit.model, rng)
            blocks.append(self.block(generation, u, values, train, origin, unit.real_drawn))
        return blocks

    def state(self) -> dict[str, np.ndarray]:
        out = {}
        for u, unit in enumerate(self.units):
            out.update({f"u{u}/{k}": v for k, v in unit.state().items()})
        return out

    def restore(self, state: dict[str, np.ndarray]) -> None:
        for u, unit in enumerate(self.units):
            unit.restore(_sub(state, f"u{u}"))


def frame_of(blocks: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """One DataFrame from column blocks with the same keys."""
    if not blocks:
        return pd.DataFrame()
    return pd.DataFrame({k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]})


def run_loop(
    spec: LoopSpec,
    settings: LoopSettings,
    store: Any = None,
    progress: bool = True,
    description: str = "generations",
) -> pd.DataFrame:
    """Run the loop and return its tidy records (one row per generation and replicate).

    With a ``store`` (see :class:`autophagy.engine.store.RunDir`) the records and the loop's state
    are saved as generations finish, and a run that was interrupted resumes from the last
    saved generation with the same numbers as an uninterrupted run.
    """
    loop = _Loop(spec, settings)
    saved = store.resume() if store is not None else None
    if saved is not None:
        done, previous, state = saved
        loop.restore(state)
        blocks = []
    else:
        done, previous, blocks = 0, None, loop.generation_zero()
    bar = tqdm(
        total=settings.generations, initial=done, desc=description, unit="gen",
        disable=not progress, leave=False,
    )
    with bar:
        for generation in range(done + 1, settings.generations + 1):
            new = loop.step(generation)
            if store is not None:
                store.checkpoint(generation, (blocks if generation == 1 else []) + new, loop.state,
                                 final=generation == settings.generations)
            blocks += new
            bar.update(1)
    frame = frame_of(blocks)
    return frame if previous is None else pd.concat([previous, frame], ignore_index=True)
