"""A green-list watermark for language models (Kirchenbauer et al. 2023).

For every previous token h, a secret key splits the vocabulary pseudo-randomly into a *green*
list of ``gamma * V`` tokens and a red rest. While generating, ``delta`` is added to the
logits of the green tokens, so watermarked text uses green tokens more often than the share
``gamma`` that text written without the key uses. Detection needs only the key and the
tokens: with T (previous, next) pairs of which G are green,

    z = (G - gamma T) / sqrt(T gamma (1 - gamma)),

which for text made without the key is approximately standard normal (G is Binomial(T, gamma)),
so a threshold on z sets the false-positive rate;
:func:`autophagy.mitigations.watermark.false_positive_rate` gives it exactly. A model
watermarks its text when its :class:`autophagy.models.decoding.Decoding` holds the logit
processor that :meth:`autophagy.mitigations.watermark.GreenList.watermark` returns.
"""

from __future__ import annotations

import math

import numpy as np

from ..models.decoding import log_softmax

KEPT_LISTS_MAX_VOCAB = 8192  # the kept lists take vocab^2 bytes: 64 MiB at this size


def _mix(x: np.ndarray) -> np.ndarray:
    """A 64-bit integer hash (the finaliser of MurmurHash3): uint64 in, uint64 out."""
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


class GreenList:
    """The keyed green lists of a vocabulary of ``vocab`` tokens: token w is green after
    token h when a keyed hash of (h, w) falls below ``gamma`` of its range, so each pair is
    green with probability ``gamma`` for text written without the key."""

    def __init__(self, vocab: int, gamma: float = 0.25, key: int = 0):
        if not 0 < gamma < 1:
            raise ValueError("gamma must be in (0, 1)")
        self.vocab, self.gamma = vocab, gamma
        self._key = _mix(np.asarray([key], dtype=np.uint64))[0]
        self._cut = np.uint64(int(gamma * 2.0**64) - 1)
        # each previous token's green list, computed once when first needed (small vocabularies)
        small = vocab <= KEPT_LISTS_MAX_VOCAB
        self._lists = np.zeros((vocab, vocab), dtype=bool) if small else None
        self._listed = np.zeros(vocab, dtype=bool) if small else None

    def is_green(self, previous: np.ndarray, token: np.ndarray) -> np.ndarray:
        """Whether each ``token`` is green after ``previous`` (arrays that broadcast)."""
        pair = np.asarray(previous, dtype=np.uint64) * np.uint64(self.vocab) + np.asarray(token, dtype=np.uint64)
        return _mix(pair ^ self._key) <= self._cut

    def bias(self, logprobs: np.ndarray, previous: np.ndarray, delta: float) -> np.ndarray:
        """``logprobs`` (B, V, float64) with ``delta`` added to the tokens green after
        ``previous`` (B,), renormalised (log-probabilities again), in place."""
        logprobs += delta * self.green_after(previous, logprobs.shape[1])
        return log_softmax(logprobs)

    def green_after(self, previous: np.ndarray, width: int) -> np.ndarray:
        """Whether each of the first ``width`` tokens is green after each of ``previous`` (B,):
        (B, width) booleans. A vocabulary of at most KEPT_LISTS_MAX_VOCAB tokens keeps every
        list it computes (a generation asks for the same few thousand lists at every token)."""
        previous = np.asarray(previous, dtype=np.int64)
        if self._lists is None or width != self.vocab:
            tokens, rows = np.unique(previous, return_inverse=True)
            return self.is_green(tokens[:, None], np.arange(width)[None, :])[rows]
        missing = np.unique(previous[~self._listed[previous]])
        if len(missing):
            self._lists[missing] = self.is_green(missing[:, None], np.arange(width)[None, :])
            self._listed[missing] = True
        return self._lists[previous]

    def watermark(self, delta: float) -> Watermark | None:
        """The logit processor that watermarks generated text with these green lists and bias
        ``delta`` (for :class:`autophagy.models.decoding.Decoding`): a
        :class:`autophagy.mitigations.watermark.Watermark`, or None (no watermark) unless
        ``delta`` > 0."""
        return Watermark(self, delta) if delta > 0 else None

    def z_scores(self, blocks: np.ndarray) -> np.ndarray:
        """The detection z-score of each token block (B, L): its L - 1 pairs."""
        blocks = np.asarray(blocks, dtype=np.int64)
        pairs = blocks.shape[1] - 1
        green = self.is_green(blocks[:, :-1], blocks[:, 1:]).sum(axis=1)
        return (green - self.gamma * pairs) / math.sqrt(pairs * self.gamma * (1 - self.gamma))


class Watermark:
    """A :class:`autophagy.models.decoding.LogitProcessor`: adds ``delta`` to the
    log-probabilities of the tokens green after each row's previous token (nothing for a first
    token without a prompt) and renormalises, in place."""

    def __init__(self, marks: GreenList, delta: float):
        self.marks, self.delta = marks, delta

    def __call__(self, logprobs: np.ndarray, context: np.ndarray) -> np.ndarray:
        if context.shape[1] == 0:
            return logprobs
        return self.marks.bias(logprobs, context[:, -1], self.delta)


def false_positive_rate(threshold: float, pairs: int, gamma: float) -> float:
    """P(z > threshold) for a block of ``pairs`` token pairs written without the key: the
    exact binomial tail of G ~ Binomial(pairs, gamma)."""
    needed = math.floor(gamma * pairs + threshold * math.sqrt(pairs * gamma * (1 - gamma))) + 1
    from scipy import stats

    return float(stats.binom.sf(needed - 1, pairs, gamma))


def edit_tokens(blocks: np.ndarray, fraction: float, vocab: int, rng: np.random.Generator) -> np.ndarray:
    """A copy of ``blocks`` with each token replaced, with probability ``fraction``, by a
    uniformly random token (the simplest attack on a watermark: paraphrase by noise)."""
    blocks = np.array(blocks, copy=True)
    hit = rng.random(blocks.shape) < fraction
    blocks[hit] = rng.integers(0, vocab, size=int(hit.sum()))
    return blocks
