"""Reuse a model's first fit: it is a pure function of (its fit settings, data, seed).

Generation 1 is fitted on the same real data with the same random stream in every loop
mode (replace, fresh, accumulate ...) and for every sampling setting (a GAN's truncation
psi acts only after training), so one training serves them all. :class:`FirstFitCache`
wraps a model whose ``fit`` draws exactly one number from ``step.rng`` and saves or loads
the weights of its fit at the first step under the cache folder (``autophagy.data.cache``),
keyed by a SHA-256 of the model's ``fit_settings``, the data and that draw.
"""

from __future__ import annotations

import copy
import hashlib
import json

import numpy as np

from ..data.cache import cache_dir
from ..engine.step import Step
from ..files import atomic_write, checkpoint_bytes, read_checkpoint


class FirstFitCache:
    """``model`` with its first fit looked up in (or added to) the cache folder ``tag``."""

    def __init__(self, model, tag: str):
        self.model, self.tag = model, tag

    def __getattr__(self, name):
        return getattr(self.model, name)

    def key(self, data: np.ndarray, rng: np.random.Generator) -> str:
        draw = int(copy.deepcopy(rng).integers(2**62))  # the draw fit will make
        digest = hashlib.sha256()
        digest.update(
            json.dumps(
                {"config": self.model.fit_settings, "draw": draw, "shape": data.shape, "dtype": str(data.dtype)},
                sort_keys=True,
            ).encode()
        )
        digest.update(np.ascontiguousarray(data).tobytes())
        return digest.hexdigest()[:32]

    def fit(self, data: np.ndarray, step: Step) -> None:
        if not step.first:
            return self.model.fit(data, step)
        path = cache_dir("fits", self.tag) / f"{self.key(data, step.rng)}.npz"
        if path.exists():
            self.model.load_state_dict(read_checkpoint(path)[0])
            step.rng.integers(2**62)  # consume the draw fit would have made
            return None
        self.model.fit(data, step)
        atomic_write(path, checkpoint_bytes(self.model.state_dict()))
        return None

    def sample(self, n: int, rng: np.random.Generator, **kw):
        """The wrapped model's samples (``kw``: its own keywords, such as a DDPM's ``labels``)."""
        return self.model.sample(n, rng, **kw)

    def state_dict(self) -> dict[str, np.ndarray]:
        return self.model.state_dict()

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.model.load_state_dict(state)
