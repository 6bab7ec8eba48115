"""Hutter's memoriser of Zipf tokens: the solvable model of Dohmatob et al. (2024).

Each of K tokens has a fixed label. A memoriser learns the label of every token in its training
set and of no other, so its test error on the real distribution p is the real probability of the
tokens it never saw. Vectorised over replicates: a training set of T tokens is kept as its counts
(:class:`~autophagy.models.categorical.Counts`, one multinomial draw per replicate whatever T).

The training tokens come from a *source*: the real distribution (``clean``), the text of an AI
model that writes only the k most frequent tokens (``cut``: p cut at rank k and renormalised),
or that text with a share of real tokens mixed in, token by token (``mixed``). As a generator, a
memoriser writes tokens in the frequencies it counted: a token it never saw is never written.
"""

from __future__ import annotations

import functools

import numpy as np

from .categorical import Counts

SOURCES = ("clean", "cut", "mixed")


def tail_cut(p: np.ndarray, rank: int) -> np.ndarray:
    """p cut at rank k: the first ``rank`` probabilities renormalised, zero beyond."""
    q = np.where(np.arange(len(p)) < rank, p, 0.0)
    return q / q.sum()


def source_distribution(p: np.ndarray, source: str, rank: int, clean_share: float) -> np.ndarray:
    """The training distribution q of ``source``: p (clean), p cut at ``rank`` (cut), or
    clean_share * p + (1 - clean_share) * (p cut at ``rank``) (mixed)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}: expected one of {', '.join(SOURCES)}")
    p = np.asarray(p, dtype=float)
    if source == "clean":
        return p
    cut = tail_cut(p, rank)
    return cut if source == "cut" else clean_share * p + (1 - clean_share) * cut


@functools.lru_cache(maxsize=8)
def _token_ids(replicates: int, symbols: int) -> np.ndarray:
    """Every token in order, for each replicate: one shared (read-only) array per shape, so that
    counts from a source and from a memoriser add without sorting (see Counts.concat)."""
    return np.broadcast_to(np.arange(symbols, dtype=np.int32), (replicates, symbols))


class TokenSource:
    """``replicates`` independent draws of tokens from a fixed distribution ``q`` (a web's text).

    A draw of n tokens uses a stream keyed by ``key`` and n besides the loop's stream, so that
    runs at one seed that differ in source or size (the runs of a sweep) are independent."""

    def __init__(self, replicates: int, q: np.ndarray, key: int):
        self.q = np.asarray(q, dtype=float)
        self.replicates = replicates
        self.key = key

    def sample(self, n: int, rng: np.random.Generator) -> Counts:
        own = np.random.default_rng([self.key, n, int(rng.integers(2**63))])
        counts = own.multinomial(n, self.q, size=self.replicates)
        return Counts(counts, _token_ids(self.replicates, len(self.q)), len(self.q))


class Memoriser:
    """``replicates`` memorisers of ``len(p)`` tokens; before any fit each knows every token, in
    the frequencies ``p`` (the truth)."""

    batched = True

    def __init__(self, replicates: int, p: np.ndarray):
        p = np.asarray(p, dtype=float)
        self.frequencies = np.broadcast_to(p, (replicates, len(p)))

    def fit(self, data: Counts, step=None) -> None:
        """Memorise the tokens of ``data`` and count their frequencies."""
        counts = data.dense()
        self.frequencies = counts / counts.sum(axis=1, keepdims=True)

    def sample(self, n: int, rng: np.random.Generator) -> Counts:
        """n tokens per replicate, in the frequencies the memoriser counted."""
        reps, symbols = self.frequencies.shape
        return Counts(rng.multinomial(n, self.frequencies), _token_ids(reps, symbols), symbols)

    def error(self, p: np.ndarray) -> np.ndarray:
        """The test error on the real distribution ``p``: the probability of the tokens never seen."""
        return (self.frequencies == 0) @ np.asarray(p, dtype=float)

    def known(self) -> np.ndarray:
        """Tokens memorised (seen at least once), per replicate."""
        return (self.frequencies > 0).sum(axis=1)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"frequencies": np.ascontiguousarray(self.frequencies)}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.frequencies = np.array(state["frequencies"], dtype=float)
