"""What the loop tells each hook about the moment it is called."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Step:
    """One unit of the loop at one generation.

    ``rng`` is that unit's random stream for that generation; ``generation`` is 1 for the fit
    on real data (0 is the truth); ``unit`` numbers the independent chains (always 0 for a
    batched model, which holds every replicate); ``run_dir`` is the run directory, or None for
    a run kept in memory. A model used on its own is fitted with ``Step(rng)``.
    """

    rng: np.random.Generator
    generation: int = 1
    unit: int = 0
    run_dir: Path | None = None

    @property
    def first(self) -> bool:
        """True for the fit on real data, where a neural model starts from its starting weights."""
        return self.generation <= 1
