"""Shipped starting models: weights that learned the real data, one safetensors file and one
card (JSON) each, rebuilt by ``autophagy pretrain NAME`` (:mod:`autophagy.pretrain`).

The card holds the architecture (the fields of the network's settings dataclass, see
:func:`autophagy.models.starting.network`), the recipe (the training settings and the seed),
the data, the wall time, the hardware, the quality figures measured on held-out data and the
SHA-256 of the weights file; :func:`load` checks that checksum before reading the tensors
(safetensors: no pickle), once per process.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..data import DataError
from ..data.cache import check_sha256

FOLDER = Path(__file__).parent


def rebuild_hint(name: str) -> str:
    return f"rebuild it with: autophagy pretrain {name}"


def card(name: str, folder: Path = FOLDER) -> dict:
    """The card of the shipped model ``name``; a missing or unreadable card is a DataError."""
    path = Path(folder) / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise DataError(
            f"the starting model {name} has no readable card {path} ({err.__class__.__name__}): {rebuild_hint(name)}"
        ) from None


def load(name: str, folder: Path = FOLDER) -> dict[str, np.ndarray]:
    """The weights of the shipped model ``name`` as read-only float32 arrays, after checking
    their SHA-256 against the card; a missing or damaged file is one DataError naming the
    command that rebuilds it. A process reads each file once."""
    path = Path(folder) / f"{name}.safetensors"
    if not path.is_file():
        raise DataError(f"the starting model {name} is missing ({path}): {rebuild_hint(name)}")
    return dict(_read(path, card(name, folder)["sha256"], name))


@lru_cache(maxsize=8)
def _read(path: Path, sha256: str, name: str) -> dict[str, np.ndarray]:
    """The checked arrays of ``path``, cached: a run's check and its loop share one read."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    check_sha256(path, sha256, rebuild_hint(name), f"starting model {name}")
    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as err:
        raise DataError(f"{path} cannot be read ({err}): {rebuild_hint(name)}") from None
    arrays = {k: v.astype(np.float32) for k, v in tensors.items()}
    for array in arrays.values():
        array.setflags(write=False)
    return arrays
