"""Training sets: the few operations the loop needs on data, whatever the modality.

The loop joins real and synthetic data, draws subsets and counts samples. Data is either a
numpy array whose *sample axis* is 0 (one replicate) or 1 (a batched model: replicates on
axis 0), or an object of a :class:`Summarised` subclass, which stands for a sample by its
sufficient statistics.

Every training set carries ``origin``: for each sample, the generation that produced it
(0 for real data). For an array it is an integer array shaped like the data's leading axes,
so the provenance of every training set can be checked, filtered and subsampled with it; a
:class:`Summarised` sample, whose points are not kept, carries :class:`OriginCounts` instead (how
many samples each generation gave), so its cost does not grow with the number of samples.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np


class Summarised:
    """A sample kept as sufficient statistics instead of points (see GaussianStats).

    Subclasses implement ``concat``, ``size`` and the array round trip used by checkpoints.
    """

    @classmethod
    def concat(cls, parts: list[Summarised]) -> Summarised:
        raise NotImplementedError

    def size(self) -> int:
        raise NotImplementedError

    def subsample(self, origin: OriginCounts, n: int, rng: np.random.Generator) -> tuple[Summarised, OriginCounts]:
        """``n`` of the samples drawn without replacement, and their origin."""
        raise NotImplementedError(
            "a summarised sample cannot be subsampled: use method=sample for accumulate-subsample"
        )

    def to_arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Summarised:
        raise NotImplementedError


class OriginCounts:
    """The origin of a summarised sample: ``counts[i]`` of its samples were produced by
    generation ``generations[i]`` (``counts`` is (k,), or (k, replicates) once replicates differ)."""

    def __init__(self, generations: np.ndarray, counts: np.ndarray):
        self.generations = np.asarray(generations, dtype=np.int64)
        self.counts = np.asarray(counts, dtype=np.int64)

    def real_share(self) -> np.ndarray | float:
        return self.counts[self.generations == 0].sum(axis=0) / self.counts.sum(axis=0)

    @classmethod
    def join(cls, parts: list[OriginCounts]) -> OriginCounts:
        generations = np.unique(np.concatenate([p.generations for p in parts]))
        shape = np.broadcast_shapes(*[p.counts.shape[1:] for p in parts])
        counts = np.zeros((generations.size, *shape), dtype=np.int64)
        for part in parts:
            added = part.counts if part.counts.ndim > 1 else part.counts.reshape(-1, *([1] * len(shape)))
            counts[np.searchsorted(generations, part.generations)] += added
        return cls(generations, counts)


def origin_of(data: Any, generation: int, axis: int) -> np.ndarray | OriginCounts:
    """The origin of ``data``, every sample of which ``generation`` produced."""
    if isinstance(data, Summarised):
        return OriginCounts(np.array([generation]), np.array([data.size()]))
    return np.full(size(data, axis), generation, dtype=np.int32)


def size(data: Any, axis: int) -> int:
    """Number of samples (per replicate)."""
    if isinstance(data, Summarised):
        return data.size()
    return int(np.shape(data)[axis])


def concat(parts: list[Any], axis: int) -> Any:
    """The samples of every part, in order."""
    if isinstance(parts[0], Summarised):
        return type(parts[0]).concat(parts)
    return np.concatenate(parts, axis=axis)


def concat_origin(parts: list[np.ndarray | OriginCounts]) -> np.ndarray | OriginCounts:
    """Join origins; 1-D arrays are broadcast when a part is per-replicate (2-D)."""
    if isinstance(parts[0], OriginCounts):
        return OriginCounts.join(parts)
    rows = max((p.shape[0] for p in parts if p.ndim == 2), default=None)
    if rows is None:
        return np.concatenate(parts)
    return np.concatenate([np.broadcast_to(p, (rows, p.shape[-1])) for p in parts], axis=1)


def subsample(data: Any, origin: np.ndarray, n: int, rng: np.random.Generator, axis: int):
    """``n`` samples drawn without replacement, independently for each replicate."""
    if isinstance(data, Summarised):
        return data.subsample(origin, n, rng)
    total = size(data, axis)
    if axis == 0:
        idx = rng.choice(total, size=n, replace=False)
        return data[idx], origin[..., idx] if origin.ndim == 1 else origin[:, idx]
    reps = data.shape[0]
    idx = np.argpartition(rng.random((reps, total)), n - 1, axis=1)[:, :n]
    taken = np.take_along_axis(data, idx.reshape(idx.shape + (1,) * (data.ndim - 2)), axis=1)
    full_origin = np.broadcast_to(origin, (reps, total))
    return taken, np.take_along_axis(full_origin, idx, axis=1)


def pick(data: Any, origin: np.ndarray, keys: np.ndarray, n: int, axis: int) -> tuple[Any, np.ndarray]:
    """The ``n`` samples with the smallest ``keys`` (shaped like ``origin``: (m,) or (R, m)),
    independently for each replicate, in their original order."""
    if axis == 0:
        index = np.sort(np.argpartition(keys, n - 1)[:n])
        return data[index], origin[index]
    index = np.sort(np.argpartition(keys, n - 1, axis=1)[:, :n], axis=1)
    taken = np.take_along_axis(data, index.reshape(index.shape + (1,) * (data.ndim - 2)), axis=1)
    return taken, np.take_along_axis(np.broadcast_to(origin, keys.shape), index, axis=1)


def real_share(origin: np.ndarray | OriginCounts) -> np.ndarray | float:
    """Fraction of real samples (origin 0), per replicate when origin is 2-D."""
    if isinstance(origin, OriginCounts):
        return origin.real_share()
    return (origin == 0).mean(axis=-1)


def encode_origin(origin: np.ndarray | OriginCounts) -> dict[str, np.ndarray]:
    """Arrays that store ``origin`` in a checkpoint."""
    if isinstance(origin, OriginCounts):
        return {"generations": origin.generations, "counts": origin.counts}
    return {"labels": np.asarray(origin)}


def decode_origin(arrays: dict[str, np.ndarray]) -> np.ndarray | OriginCounts:
    """Inverse of :func:`encode_origin`."""
    if "counts" in arrays:
        return OriginCounts(arrays["generations"], arrays["counts"])
    return arrays["labels"]


def encode(data: Any) -> dict[str, np.ndarray]:
    """Arrays that store ``data`` in a checkpoint (no pickle)."""
    if isinstance(data, Summarised):
        kind = f"{type(data).__module__}:{type(data).__qualname__}"
        return {"kind": np.array(kind), **data.to_arrays()}
    return {"kind": np.array("ndarray"), "values": np.asarray(data)}


def decode(arrays: dict[str, np.ndarray]) -> Any:
    """Inverse of :func:`encode`; only :class:`Summarised` subclasses are rebuilt."""
    kind = str(arrays["kind"])
    if kind == "ndarray":
        return arrays["values"]
    module, _, name = kind.partition(":")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, Summarised)):
        raise ValueError(f"checkpoint names an unknown data type {kind!r}")
    return cls.from_arrays({k: v for k, v in arrays.items() if k != "kind"})
