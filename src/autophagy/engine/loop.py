"""The self-consuming loop: fit, sample, build the next training set, repeat.

The loop knows nothing of images or text. A *model* is any object with

- ``fit(data, step)``: train on ``data``; ``step`` (:class:`~autophagy.engine.step.Step`)
  holds the generation, the unit and its random stream, so a neural model knows when it
  starts from its starting weights and when it warm-starts;
- ``sample(n, rng)``: ``n`` new samples;
- ``state_dict()`` / ``load_state_dict(state)``: a flat ``{name: numpy array}`` for
  checkpoints;
- ``batched``: True when one object holds every replicate (data then has the replicates
  on axis 0 and the samples on axis 1, and metrics return one value per replicate).

Generation 0 is the truth; generation 1 is fitted on real data only; the training set of
generation t + 1 is built from generation t by the mode (see :mod:`autophagy.engine.modes`).

The web modes stand for the uncontrolled web: each generation scrapes n samples of which a
share :meth:`LoopSettings.synthetic_share` (growing with time, chosen by no one) comes from
the previous generation's model. Their ``filter`` hook (a detector, provenance labels, a
watermark test) screens the whole scrape, real samples included, so its errors cost real data.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import modes, trainsets
from .step import Step


class Model(Protocol):
    batched: bool

    def fit(self, data: Any, step: Step) -> None: ...

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
    step)`` returns named numbers (arrays over replicates for a batched model); ``truth`` is
    what ``metrics`` sees at generation 0; ``artifacts(model, step)`` (optional) writes what a
    generation leaves besides numbers (sample files) into ``step.run_dir``, when there is one.
    """

    make_model: Callable[[], Model]
    real: Callable[[int, np.random.Generator], Any]
    metrics: Callable[[Any, Step], dict[str, Any]]
    truth: Any
    select: Selector | None = None
    filter: Callable[[Any, np.ndarray, np.random.Generator], np.ndarray] | None = None
    """``filter(samples, origin, rng)`` returns a mask of the samples to keep, shaped like
    ``origin`` (the samples' leading axes: (n,), or (replicates, n) for a batched model). In
    the web modes it screens each scrape; in the others, each generation's synthetic samples.
    The loop draws again until ``n`` samples pass."""
    artifacts: Callable[[Any, Step], None] | None = None
    correct: Callable[[Any, Any], Any] | None = None
    """``correct(samples, model)`` returns the model's samples moved before anything trains on
    them (Gillman et al.'s self-correction), in every mode, the synthetic share of a web
    scrape included."""


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
        modes.get(self.mode)

    @classmethod
    def from_params(cls, params: dict[str, Any], seed: int) -> LoopSettings:
        """The settings named in an experiment's resolved parameters."""
        known = ("real_fraction", "synthetic_ratio", "web_start", "web_growth", "web_max")
        return cls(
            generations=params["generations"],
            samples=params["samples"],
            mode=params["mode"],
            replicates=params["replicates"],
            seed=seed,
            **{k: params[k] for k in known if k in params},
        )

    def synthetic_share(self, generation: int) -> float:
        """Web modes: the synthetic share of generation ``generation``'s scrape (0 at generation 1,
        ``web_start`` at 2, then ``web_growth`` more each generation, at most ``web_max``)."""
        if generation < 2:
            return 0.0
        return min(self.web_max, self.web_start + self.web_growth * (generation - 2))


_KEPT_DATA = ("real_set", "pool")  # data kept across generations, each with its origin
MAX_DRAWS = 1000  # draws of n samples a filter may reject before the loop gives up


@dataclass
class _Unit:
    """One independent chain: a model and the data it keeps between generations."""

    model: Model
    real_set: Any = None
    real_set_origin: Any = None
    pool: Any = None
    pool_origin: Any = None
    real_drawn: int = 0  # real samples drawn for the current generation (filtered ones included)

    def state(self) -> dict[str, np.ndarray]:
        out = {f"model/{k}": np.asarray(v) for k, v in self.model.state_dict().items()}
        for name in _KEPT_DATA:
            value = getattr(self, name)
            if value is not None:
                out.update({f"{name}/{k}": v for k, v in trainsets.encode(value).items()})
                origin = trainsets.encode_origin(getattr(self, f"{name}_origin"))
                out.update({f"{name}_origin/{k}": v for k, v in origin.items()})
        return out

    def restore(self, state: dict[str, np.ndarray]) -> None:
        self.model.load_state_dict(_sub(state, "model"))
        for name in _KEPT_DATA:
            part = _sub(state, name)
            if part:
                setattr(self, name, trainsets.decode(part))
                setattr(self, f"{name}_origin", trainsets.decode_origin(_sub(state, f"{name}_origin")))


def _sub(state: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    head = prefix + "/"
    return {k[len(head) :]: v for k, v in state.items() if k.startswith(head)}


def rng_for(seed: int, unit: int, generation: int) -> np.random.Generator:
    """The random stream of one unit at one generation: runs resume without saved RNG state."""
    return np.random.default_rng([seed, unit, generation])


class _Loop:
    def __init__(self, spec: LoopSpec, settings: LoopSettings, run_dir: Path | None = None):
        self.spec = spec
        self.cfg = settings
        self.mode = modes.get(settings.mode)
        self.run_dir = run_dir
        first = spec.make_model()
        self.batched = bool(getattr(first, "batched", False))
        self.axis = 1 if self.batched else 0
        count = 1 if self.batched else settings.replicates
        self.units = [_Unit(first)] + [_Unit(spec.make_model()) for _ in range(count - 1)]

    def draw(self, unit: _Unit, n: int, rng) -> Any:
        """``n`` samples of ``unit``'s current model, after the select and correct hooks."""
        select, correct = self.spec.select, self.spec.correct
        samples = (
            select(unit.model.sample(math.ceil(n * select.draw_factor), rng), n, rng)
            if select
            else unit.model.sample(n, rng)
        )
        return correct(samples, unit.model) if correct else samples

    def synthetic(self, unit: _Unit, n: int, generation: int, rng) -> tuple[Any, Any]:
        """``n`` samples of ``unit``'s current model, after the select and filter hooks."""

        def draw() -> tuple[Any, Any]:
            samples = self.draw(unit, n, rng)
            return samples, trainsets.origin_of(samples, generation, self.axis)

        return self.collect(draw, n, rng)

    def scrape(self, unit: _Unit, generation: int, rng) -> tuple[Any, Any]:
        """Web modes: n samples of a web whose share ``synthetic_share(generation)`` is the
        previous generation's output (unlabelled), that pass the filter hook."""
        n = self.cfg.samples
        n_synth = round(self.cfg.synthetic_share(generation) * n)

        def draw() -> tuple[Any, Any]:
            parts = []
            if n_synth < n:
                parts.append((self.real(unit, n - n_synth, rng), 0))
            if n_synth:
                parts.append((self.draw(unit, n_synth, rng), generation - 1))
            return self.join([(data, trainsets.origin_of(data, made_by, self.axis)) for data, made_by in parts])

        return self.collect(draw, n, rng)

    def join(self, parts: list[tuple[Any, Any]]) -> tuple[Any, Any]:
        """The samples of every (data, origin) part, in order, and their origin."""
        return (
            trainsets.concat([data for data, _ in parts], self.axis),
            trainsets.concat_origin([origin for _, origin in parts]),
        )

    def collect(self, draw: Callable[[], tuple[Any, Any]], n: int, rng) -> tuple[Any, Any]:
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
            data, origin = self.join([(data, origin), (more, more_origin)])
        else:
            raise ValueError(f"the filter passed fewer than {n} of {MAX_DRAWS} draws of {n} samples")
        # kept samples get random keys in [0, 1), dropped ones 2: the n smallest are kept ones
        keys = np.where(kept, rng.random(kept.shape), 2.0)
        return trainsets.pick(data, origin, keys, n, self.axis)

    def real(self, unit: _Unit, n: int, rng) -> Any:
        """``n`` real samples, counted in ``unit.real_drawn``."""
        unit.real_drawn += n
        return self.spec.real(n, rng)

    def added(self, unit: _Unit, generation: int, rng) -> tuple[Any, Any]:
        """What the mode's source adds at ``generation``: real data at generation 1 (a scrape
        with no synthetic share in the web modes), then built from generation - 1."""
        n, cfg, source = self.cfg.samples, self.cfg, self.mode.source
        if source == "web":
            return self.scrape(unit, generation, rng)
        if generation == 1:
            real = self.real(unit, n, rng)
            origin = trainsets.origin_of(real, 0, self.axis)
            if source == "augment":
                unit.real_set, unit.real_set_origin = real, origin
            return real, origin
        made_by = generation - 1
        if source == "synthetic":
            return self.synthetic(unit, n, made_by, rng)
        if source == "augment":
            extra = max(1, round(cfg.synthetic_ratio * n))
            return self.join([(unit.real_set, unit.real_set_origin), self.synthetic(unit, extra, made_by, rng)])
        n_real = fresh_real_count(cfg.real_fraction, n)  # source == "fresh"
        real = self.real(unit, n_real, rng)
        parts = [(real, trainsets.origin_of(real, 0, self.axis))]
        if n_real < n:
            parts.append(self.synthetic(unit, n - n_real, made_by, rng))
        return self.join(parts)

    def training_set(self, unit: _Unit, generation: int, rng) -> tuple[Any, Any]:
        """The training set of ``generation``: what the source adds, joined to the pool when the
        mode keeps one (and a budget of n drawn from the pool when the pool outgrows it)."""
        data, origin = self.added(unit, generation, rng)
        if not self.mode.accumulates:
            return data, origin
        if unit.pool is not None:
            data, origin = self.join([(unit.pool, unit.pool_origin), (data, origin)])
        unit.pool, unit.pool_origin = data, origin
        n = self.cfg.samples
        if self.mode.memory == "all" or trainsets.size(data, self.axis) <= n:
            return data, origin
        return trainsets.subsample(data, origin, n, rng, self.axis)

    def block(
        self, generation: int, unit_index: int, values: dict[str, Any], train, origin, real_drawn: int = 0
    ) -> dict[str, np.ndarray]:
        """Tidy columns, one row per replicate, for one unit's metrics at one generation."""
        reps = self.cfg.replicates if self.batched else 1
        first = 0 if self.batched else unit_index
        if origin is None:
            size, share = 0, np.nan
        else:
            size, share = trainsets.size(train, self.axis), trainsets.real_share(origin)
        return {
            "generation": np.full(reps, generation),
            "replicate": np.arange(first, first + reps),
            "train_size": np.full(reps, size),
            "real_share": _column(share, reps),
            "real_drawn": np.full(reps, real_drawn),
            **{k: _column(v, reps) for k, v in values.items()},
        }

    def step_of(self, unit: int, generation: int) -> Step:
        return Step(rng_for(self.cfg.seed, unit, generation), generation, unit, self.run_dir)

    def generation_zero(self) -> dict[str, np.ndarray]:
        """The truth's records (and artifacts), as every unit sees it."""
        blocks = []
        for u in range(len(self.units)):
            step = self.step_of(u, 0)
            blocks.append(self.block(0, u, self.spec.metrics(self.spec.truth, step), None, None))
            self.keep_artifacts(self.spec.truth, step)
        return joined(blocks)

    def keep_artifacts(self, model: Any, step: Step) -> None:
        if self.spec.artifacts is not None:
            self.spec.artifacts(model, step)

    def fit_generation(self, generation: int) -> dict[str, np.ndarray]:
        """Every unit's fit at ``generation``: its records, one row per replicate."""
        blocks = []
        for u, unit in enumerate(self.units):
            step = self.step_of(u, generation)
            unit.real_drawn = 0
            train, origin = self.training_set(unit, generation, step.rng)
            unit.model.fit(train, step)
            values = self.spec.metrics(unit.model, step)
            self.keep_artifacts(unit.model, step)
            blocks.append(self.block(generation, u, values, train, origin, unit.real_drawn))
        return joined(blocks)

    def state(self) -> dict[str, np.ndarray]:
        out = {}
        for u, unit in enumerate(self.units):
            out.update({f"u{u}/{k}": v for k, v in unit.state().items()})
        return out

    def restore(self, state: dict[str, np.ndarray]) -> None:
        for u, unit in enumerate(self.units):
            unit.restore(_sub(state, f"u{u}"))


def _column(value: Any, rows: int) -> np.ndarray:
    """``value`` (a number, or one per replicate) as a float column of ``rows``."""
    column = np.asarray(value, dtype=float)
    return column if column.shape == (rows,) else np.broadcast_to(column, (rows,))


def joined(blocks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One column block from blocks with the same keys."""
    if len(blocks) == 1:
        return blocks[0]
    return {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}


class Records:
    """The tidy record of a run, kept as preallocated columns (one row per generation and replicate)."""

    def __init__(self, blocks: int):
        self.blocks = blocks  # blocks still to come (one per generation), each the same number of rows
        self.columns: dict[str, np.ndarray] = {}
        self.rows = 0

    def add(self, block: dict[str, np.ndarray]) -> None:
        size = len(block["generation"])
        if not self.columns:
            self.columns = {k: np.empty(size * self.blocks, dtype=np.asarray(v).dtype) for k, v in block.items()}
        for key, values in block.items():
            self.columns[key][self.rows : self.rows + size] = values
        self.rows += size

    def since(self, row: int) -> dict[str, np.ndarray]:
        """The columns from ``row`` on (views, not copies)."""
        return {k: v[row : self.rows] for k, v in self.columns.items()}

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({k: v[: self.rows] for k, v in self.columns.items()}, copy=False)


def _seconds_left(started: float, done: int, left: int) -> float:
    """The seconds ``left`` more generations take, at the pace of the ``done`` since ``started``."""
    return (time.monotonic() - started) / done * left


def run_loop(
    spec: LoopSpec,
    settings: LoopSettings,
    store: Any = None,
    progress: bool = True,
    description: str = "generations",
) -> pd.DataFrame:
    """Run the loop and return its tidy records (one row per generation and replicate).

    With a ``store`` (see :class:`autophagy.runs.store.RunDir`) the records and the loop's
    state are saved as generations finish, and a run that was interrupted resumes from the
    last saved generation with the same numbers as an uninterrupted run.
    """
    loop = _Loop(spec, settings, store.path if store is not None else None)
    saved = store.resume() if store is not None else None
    if saved is not None:
        done, previous, state = saved
        loop.restore(state)
        records = Records(settings.generations - done)
    else:
        done, previous = 0, None
        records = Records(settings.generations + 1)
        records.add(loop.generation_zero())
    saved_rows = 0  # the records before this row are in the store
    started = time.monotonic()
    bar = tqdm(
        total=settings.generations,
        initial=done,
        desc=description,
        unit="gen",
        disable=not progress,
        leave=False,
    )
    with bar:
        for generation in range(done + 1, settings.generations + 1):
            records.add(loop.fit_generation(generation))
            if store is not None and generation == settings.generations:  # every row, saved ones included
                store.finish(generation, [*([] if previous is None else [previous]), records.since(0)], loop.state)
            elif store is not None:
                left = _seconds_left(started, generation - done, settings.generations - generation)
                if store.due(left):  # the unsaved rows as one block
                    store.checkpoint(generation, [records.since(saved_rows)], loop.state)
                    saved_rows = records.rows
            bar.update(1)
    frame = records.frame()
    return frame if previous is None else pd.concat([previous, frame], ignore_index=True)
