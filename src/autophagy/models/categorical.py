"""A categorical distribution over K symbols refitted by frequencies (Wright-Fisher drift).

Vectorised over replicates. A sample of N draws is kept as its counts (:class:`Counts`), the
sufficient statistic, so a generation costs one multinomial draw per replicate whatever N.
Symbols that vanished in a replicate are moved out of the way: each replicate's columns are
sorted by count and the all-zero tail is cut, so late generations, with few survivors,
cost little (the symbol of each column is kept in ``ids``).
"""

from __future__ import annotations

import numpy as np

from ..engine.trainsets import OriginCounts, Summarised


def zipf(symbols: int, exponent: float) -> np.ndarray:
    """Zipf probabilities p_k proportional to k^-exponent, k = 1..symbols (rank order)."""
    p = np.arange(1, symbols + 1, dtype=float) ** -float(exponent)
    return p / p.sum()


class Counts(Summarised):
    """Per-replicate symbol counts: ``counts[r, j]`` draws of symbol ``ids[r, j]`` (of K).

    Joining samples adds counts. ``total`` is the number of draws (the same in every
    replicate).
    """

    def __init__(self, counts: np.ndarray, ids: np.ndarray, symbols: int):
        self.counts = counts
        self.ids = ids
        self.symbols = int(symbols)

    @property
    def total(self) -> int:
        return int(self.counts[0].sum())

    def size(self) -> int:
        return self.total

    def dense(self) -> np.ndarray:
        """The counts as a (replicates, K) array in symbol order."""
        out = np.zeros((self.counts.shape[0], self.symbols), dtype=self.counts.dtype)
        rows = np.arange(self.counts.shape[0])[:, None]
        out[rows, self.ids] = self.counts
        return out

    def compact(self) -> Counts:
        """The same counts with each replicate's columns sorted by count, zero tail cut."""
        width = max(int((self.counts > 0).sum(axis=1).max()), 1)
        if width == self.counts.shape[1]:
            return self
        order = np.argsort(-self.counts, axis=1, kind="stable")[:, :width]
        return Counts(
            np.take_along_axis(self.counts, order, axis=1), np.take_along_axis(self.ids, order, axis=1), self.symbols
        )

    @classmethod
    def concat(cls, parts: list[Counts]) -> Counts:
        first = parts[0]
        if all(p.ids is first.ids for p in parts):
            return cls(sum(p.counts for p in parts), first.ids, first.symbols)
        total = sum(p.dense() for p in parts)
        ids = np.broadcast_to(np.arange(first.symbols, dtype=np.int32), total.shape)
        return cls(total, ids, first.symbols).compact()

    def subsample(self, origin: OriginCounts, n: int, rng: np.random.Generator) -> tuple[Counts, OriginCounts]:
        """``n`` of the draws taken without replacement, independently in each replicate.

        The counts are a multivariate hypergeometric draw per replicate, made column by
        column (a column's count given the columns before it is hypergeometric) and
        vectorised over replicates. The origins (generation of each draw) are a second
        multivariate hypergeometric draw over the generations' shares of the pool: exact
        for each on its own, but drawn independently of the symbols, since counts do not
        record which generation drew which symbol.
        """
        reps, width = self.counts.shape
        left = np.full(reps, self.total, dtype=np.int64)
        wanted = np.full_like(left, n)
        out = np.zeros_like(self.counts)
        for j in range(width):
            good = self.counts[:, j]
            left -= good
            out[:, j] = rng.hypergeometric(good, left, wanted) if j < width - 1 else wanted
            wanted = wanted - out[:, j]
            if not wanted.any():
                break
        per_generation = rng.multivariate_hypergeometric(origin.counts, n, size=reps)
        return Counts(out, self.ids, self.symbols), OriginCounts(origin.generations, per_generation.T)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts, "ids": np.ascontiguousarray(self.ids), "symbols": np.asarray(self.symbols)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Counts:
        return cls(arrays["counts"], arrays["ids"], int(arrays["symbols"]))


class Categorical:
    """``replicates`` categorical distributions over ``len(p)`` symbols, fitted by frequencies."""

    batched = True

    def __init__(self, replicates: int, p: np.ndarray):
        p = np.asarray(p, dtype=float)
        self.symbols = p.size
        self.ids = np.broadcast_to(np.arange(p.size, dtype=np.int32), (replicates, p.size))
        self.p = np.broadcast_to(p, (replicates, p.size))

    def fit(self, data: Counts, step=None) -> None:
        data = data.compact()
        self.ids = data.ids
        self.p = data.counts / data.total

    def sample(self, n: int, rng: np.random.Generator) -> Counts:
        return Counts(rng.multinomial(n, self.p), self.ids, self.symbols)

    def probabilities(self) -> np.ndarray:
        """The fitted probabilities, (replicates, K) in symbol order."""
        out = np.zeros((self.p.shape[0], self.symbols))
        out[np.arange(self.p.shape[0])[:, None], self.ids] = self.p
        return out

    def surviving(self) -> np.ndarray:
        """Number of symbols with a non-zero probability, per replicate."""
        return (self.p > 0).sum(axis=1)

    def tail_mass(self, rank: int) -> np.ndarray:
        """Probability of the symbols of rank > ``rank`` in the truth's order, per replicate."""
        return np.where(self.ids >= rank, self.p, 0.0).sum(axis=1)

    def gini_simpson(self) -> np.ndarray:
        """1 - sum_k p_k^2: the chance that two draws differ, per replicate."""
        return 1.0 - (self.p**2).sum(axis=1)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"p": np.ascontiguousarray(self.p), "ids": np.ascontiguousarray(self.ids)}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.p = np.array(state["p"], dtype=float)
        self.ids = np.array(state["ids"])
