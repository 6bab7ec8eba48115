"""Which words a text keeps: frequency bands of the real training text's words, each band's
share of a text's word tokens, and the share of a band's words a text still uses.

Words are the maximal runs of ASCII letters in the lower-cased text (``[a-z]+``): "Don't
stop-gap 1990s café" gives don, t, stop, gap, s, caf. Digits, punctuation, other letters and
the broken bytes a byte-level model may write all split words, the same way in real and in
generated text.

A word's rank is 1 plus the number of training words more frequent than it, so that words of
equal count share a rank and a band. With :data:`EDGES` the bands of the Wikipedia training
split (:func:`autophagy.data.text.split`, 381,777 words, 27,843 distinct) are, with each
band's share of the word tokens of the real test split: ranks 1-100 (101 words seen 308 times
or more: "the", "of", "and", ...; 44%), 101-1,000 (seen 48 to 307 times; 20%), 1,001-10,000
(seen 3 to 47 times; 24%), beyond 10,000 (seen once or twice; 5%), and a last band for words
the training text never contains (7%: names and words of topics the training articles do not
cover; in texts cut into token blocks also words cut at a block's edge, and in generated text
the model's invented words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

WORD = re.compile(r"[a-z]+")
EDGES = (100, 1_000, 10_000)  # the last rank of each band but the last two
UNSEEN = "unseen"  # the key of the band of words the training text never contains


def words(text: str) -> list[str]:
    """The words of ``text``: maximal runs of ASCII letters, lower-cased."""
    return WORD.findall(text.lower())


def _tokens(texts: list[str]) -> np.ndarray:
    return np.array([w for t in texts for w in words(t)], dtype=str)


@dataclass(frozen=True)
class Bands:
    """Frequency bands of a training text's words: ``vocabulary`` (its distinct words,
    sorted), their training ``counts`` and ``band`` index, the rank ``edges``, and one ``key``
    and ``label`` per band, the band of unseen words last."""

    vocabulary: np.ndarray
    counts: np.ndarray
    band: np.ndarray
    edges: tuple[int, ...]
    keys: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def unseen(self) -> int:
        """The index of the band of words the training text never contains (the last)."""
        return len(self.keys) - 1

    def of(self, tokens) -> np.ndarray:
        """The band index of each word in ``tokens`` (:attr:`unseen` for unknown words)."""
        tokens = np.asarray(tokens, dtype=str)
        if not len(self.vocabulary) or not tokens.size:
            return np.full(tokens.shape, self.unseen)
        at = np.minimum(np.searchsorted(self.vocabulary, tokens), len(self.vocabulary) - 1)
        return np.where(self.vocabulary[at] == tokens, self.band[at], self.unseen)

    def sizes(self) -> np.ndarray:
        """How many distinct training words each band holds (0 for the unseen band)."""
        return np.bincount(self.band, minlength=len(self.keys))

    def corpus_shares(self) -> np.ndarray:
        """Each band's share of the training text's own word tokens (0 for the unseen band)."""
        mass = np.bincount(self.band, weights=self.counts, minlength=len(self.keys))
        return mass / mass.sum()


def bands(texts: list[str], edges: tuple[int, ...] = EDGES) -> Bands:
    """The frequency bands of the words of ``texts`` (the real training text), cut after the
    ranks in ``edges`` (increasing)."""
    edges = tuple(int(e) for e in edges)
    if not edges or edges[0] < 1 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"rank edges must be positive and increasing, not {edges}")
    vocabulary, counts = np.unique(_tokens(texts), return_counts=True)
    descending = -np.sort(counts)[::-1]  # ascending, for searchsorted
    rank = 1 + np.searchsorted(descending, -counts, side="left")  # ties share the best rank
    band = np.searchsorted(np.array(edges), rank, side="left")
    starts = (1,) + tuple(e + 1 for e in edges)
    keys = tuple(f"rank_{a}_{b}" for a, b in zip(starts, edges)) + (f"rank_{starts[-1]}_up", UNSEEN)
    labels = tuple(f"ranks {a:,}\u2013{b:,}" for a, b in zip(starts, edges)) + (
        f"ranks beyond {edges[-1]:,}",
        "not in the training text",
    )
    return Bands(vocabulary, counts, band, edges, keys, labels)


def _shares(tokens: np.ndarray, bands: Bands) -> np.ndarray:
    found = np.bincount(bands.of(tokens), minlength=len(bands.keys))
    return found / found.sum() if found.sum() else np.full(len(bands.keys), np.nan)


def _surviving(tokens: np.ndarray, bands: Bands) -> np.ndarray:
    kept = np.bincount(bands.of(np.unique(tokens)), minlength=len(bands.keys))[: bands.unseen]
    return kept / np.maximum(bands.sizes()[: bands.unseen], 1)


def shares(texts: list[str], bands: Bands) -> np.ndarray:
    """Each band's share of the word tokens of ``texts`` (NaN where they hold no word)."""
    return _shares(_tokens(texts), bands)


def surviving(texts: list[str], bands: Bands) -> np.ndarray:
    """Per band of training words, the share of its distinct words that ``texts`` use at least
    once (the unseen band has none; it is left out). It grows with the number of words in
    ``texts``: compare only samples of about the same size."""
    return _surviving(_tokens(texts), bands)


def by_generation(saved: dict, bands: Bands) -> pd.DataFrame:
    """One row per (generation, replicate) of a run's saved texts (``saved[g, r]["samples"]``,
    as ``Recorded.samples`` of :mod:`autophagy.recorded` holds them): the number of word tokens
    (``words``), each band's share of them (a column per key) and the share of each band's
    words still used (``kept_`` + key)."""
    rows = []
    for (generation, replicate), record in sorted(saved.items()):
        tokens = _tokens(record["samples"])
        rows.append(
            {
                "generation": generation,
                "replicate": replicate,
                "words": len(tokens),
                **dict(zip(bands.keys, _shares(tokens, bands))),
                **{f"kept_{k}": v for k, v in zip(bands.keys, _surviving(tokens, bands))},
            }
        )
    return pd.DataFrame(rows)
