"""A smoothed n-gram language model over token ids: exact counts, vectorised lookups.

Interpolated absolute discounting (Ney, Essen and Kneser 1994), down to a uniform
distribution over the vocabulary:

    P_k(w | h) = (max(c(h, w) - D_k, 0) + D_k N1+(h) P_{k-1}(w | h')) / c(h)

where h' drops the oldest token of h, c(h) counts the k-grams starting with context h,
N1+(h) the distinct words seen after h, and D_k = n1 / (n1 + 2 n2) from the counts of
k-grams seen once and twice. An unseen context falls back to P_{k-1}; P_0 = 1 / V.
Every distribution sums to one and gives every token a positive probability.

Positions near the start of a block use the contexts they have (a shorter history).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..engine.step import Step
from .decoding import Decoding, generate


class NGram:
    """An order-``order`` model of blocks of token ids in ``[0, vocab)`` (unbatched).

    ``fit(blocks, step)`` counts (drawing nothing, so the step may be left out); ``sample(n, rng)`` returns (n, block_len) int32 blocks made
    with ``decoding`` (after a prompt of ``prompt_len`` tokens from ``prompts``, when set).
    """  # noqa: E501

    batched = False

    def __init__(
        self,
        vocab: int,
        order: int = 3,
        block_len: int = 64,
        decoding: Decoding = Decoding(),
        prompts: np.ndarray | None = None,
        prompt_len: int = 0,
    ):
        if order < 1 or vocab**order >= 2**62:
            raise ValueError("order must be >= 1 with vocab**order < 2**62")
        self.vocab, self.order, self.block_len = vocab, order, block_len
        self.decoding, self.prompts, self.prompt_len = decoding, prompts, prompt_len
        self.tables: list[dict[str, np.ndarray]] = []

    # -- counting ----------------------------------------------------------------------
    def _codes(self, windows: np.ndarray) -> np.ndarray:
        code = np.zeros(windows.shape[:-1], dtype=np.int64)
        for j in range(windows.shape[-1]):
            code = code * self.vocab + windows[..., j]
        return code

    def fit(self, data: np.ndarray, step: Step | None = None) -> None:
        """Count the k-grams (k = 1..order) of every row of ``data``."""
        data = np.asarray(data, dtype=np.int64)
        self.tables = []
        for k in range(1, self.order + 1):
            if data.shape[1] < k:
                keys = np.zeros(0, dtype=np.int64)
                counts = np.zeros(0, dtype=np.int64)
            else:
                keys, counts = np.unique(self._codes(sliding_window_view(data, k, axis=1)), return_counts=True)
            self.tables.append(self._table(keys, counts))

    def _table(self, keys: np.ndarray, counts: np.ndarray) -> dict[str, np.ndarray]:
        contexts, start, types = np.unique(keys // self.vocab, return_index=True, return_counts=True)
        total = np.add.reduceat(counts, start) if len(counts) else np.zeros(0, dtype=np.int64)
        n1, n2 = np.sum(counts == 1), np.sum(counts == 2)
        discount = n1 / (n1 + 2 * n2) if n1 + 2 * n2 > 0 else 0.5
        return {
            "keys": keys,
            "counts": counts,
            "contexts": contexts,
            "start": start,
            "types": types,
            "total": total,
            "discount": np.float64(min(max(discount, 1e-3), 0.999)),
        }

    @staticmethod
    def _find(sorted_keys: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = np.searchsorted(sorted_keys, query)
        idx = np.minimum(idx, max(len(sorted_keys) - 1, 0))
        found = (sorted_keys[idx] == query) if len(sorted_keys) else np.zeros(query.shape, bool)
        return idx, found

    # -- probabilities -----------------------------------------------------------------
    def token_probs(self, blocks: np.ndarray) -> np.ndarray:
        """P(token | its history in the block) for every position, shaped like ``blocks``."""
        blocks = np.asarray(blocks, dtype=np.int64)
        n, L = blocks.shape
        p = np.full((n, L), 1.0 / self.vocab)
        for k, t in enumerate(self.tables, start=1):
            if L < k:
                break
            window = sliding_window_view(blocks, k, axis=1)  # positions k-1 .. L-1
            code = self._codes(window)
            ci, cfound = self._find(t["contexts"], code // self.vocab)
            ki, kfound = self._find(t["keys"], code)
            d = t["discount"]
            c = np.where(kfound, t["counts"][ki], 0)
            total = t["total"][ci]
            lower = p[:, k - 1 :]
            new = (np.maximum(c - d, 0) + d * t["types"][ci] * lower) / np.where(cfound, total, 1)
            p[:, k - 1 :] = np.where(cfound, new, lower)
        return p

    def next_probs(self, history: np.ndarray, length: np.ndarray | None = None) -> np.ndarray:
        """The distribution of the next token after each row of ``history`` (B, H): (B, V).

        Only the last ``min(length, order - 1)`` tokens of a row are used (``length``
        defaults to H for every row).
        """
        history = np.asarray(history, dtype=np.int64)
        B, H = history.shape
        length = np.full(B, H) if length is None else np.asarray(length)
        # the unigram level is the same for every row: computed on one row, then copied
        p = np.full((1, self.vocab), 1.0 / self.vocab)
        if self.tables:
            self._back_off(p, self.tables[0], np.zeros(1, dtype=np.int64))
        p = np.repeat(p, B, axis=0)
        for k, t in enumerate(self.tables[1:], start=2):
            usable = length >= k - 1
            if not usable.any():
                break
            self._back_off(p, t, self._codes(history[:, H - (k - 1) :]), usable)
        return p

    def _back_off(self, p: np.ndarray, t: dict, contexts: np.ndarray, usable: np.ndarray | None = None) -> None:
        """Update ``p`` (B, V), the distribution of the shorter contexts, in place to that of
        table ``t``'s contexts (one code per row): the discounted counts of a context seen in
        training, plus its back-off share of ``p``; rows whose context is unseen (or not
        ``usable``) keep ``p``."""
        ci, found = self._find(t["contexts"], contexts)
        if usable is not None:
            found &= usable
        rows = np.flatnonzero(found)
        if not len(rows):
            return
        d = t["discount"]
        total = t["total"][ci[rows]].astype(float)
        weight = np.ones((len(p), 1))  # each row's back-off weight (1: it keeps p, exactly)
        weight[rows, 0] = d * t["types"][ci[rows]] / total
        p *= weight
        first, many = t["start"][ci[rows]], t["types"][ci[rows]]
        owner = np.repeat(np.arange(len(rows)), many)
        idx = np.repeat(first - np.cumsum(many) + many, many) + np.arange(many.sum())
        words = t["keys"][idx] % self.vocab
        p[rows[owner], words] += (t["counts"][idx] - d) / total[owner]

    def perplexity(self, blocks: np.ndarray) -> float:
        """exp of the mean negative log-likelihood per token of ``blocks`` (nats)."""
        return float(np.exp(-np.log(self.token_probs(blocks)).mean()))

    # -- generation --------------------------------------------------------------------
    def stepper(self) -> _NGramStepper:
        return _NGramStepper(self)

    def draw_next(self, history: np.ndarray, length: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One token per row of ``history`` (B, H), drawn exactly from :meth:`next_probs`
        without forming it: with probability sum(c - D) / c(h) from the discounted counts
        of the longest usable context, else (recursively) from the next shorter one."""
        B, H = history.shape
        u = rng.random(B)
        out = np.full(B, -1, dtype=np.int64)
        for k in range(len(self.tables), 0, -1):
            t = self.tables[k - 1]
            ctx = self._codes(history[:, H - (k - 1) :]) if k > 1 else np.zeros(B, dtype=np.int64)
            ci, found = self._find(t["contexts"], ctx)
            rows = np.flatnonzero(found & (length >= k - 1) & (out < 0))
            if not len(rows):
                continue
            ci = ci[rows]
            stay = 1 - t["discount"] * t["types"][ci] / t["total"][ci]
            pick = u[rows] < stay
            lo, hi = t["start"][ci[pick]], t["start"][ci[pick]] + t["types"][ci[pick]]
            cum = self._cumulative(k)
            base = np.where(lo > 0, cum[np.maximum(lo - 1, 0)], 0.0)
            target = base + u[rows[pick]] / stay[pick] * (cum[hi - 1] - base)
            idx = np.clip(np.searchsorted(cum, target, side="right"), lo, hi - 1)
            out[rows[pick]] = t["keys"][idx] % self.vocab
            down = rows[~pick]
            u[down] = (u[down] - stay[~pick]) / (1 - stay[~pick])
        rest = out < 0
        out[rest] = np.minimum((u[rest] * self.vocab).astype(np.int64), self.vocab - 1)
        return out

    def _cumulative(self, k: int) -> np.ndarray:
        t = self.tables[k - 1]
        if "cumulative" not in t:
            t["cumulative"] = np.cumsum(t["counts"] - t["discount"])
        return t["cumulative"]

    def generate(
        self, prompts: np.ndarray, length: int, rng: np.random.Generator, decoding: Decoding | None = None
    ) -> np.ndarray:
        """``length`` new tokens after each prompt (B, P), shaped (B, length).

        Plain sampling (temperature 1, no top-p, penalty or beams) draws through
        :meth:`draw_next`; other decodings form each next-token distribution.
        """
        decoding = decoding or self.decoding
        if decoding != Decoding():
            return generate(self.stepper(), prompts, length, self.vocab, decoding, rng)
        step = self.stepper()
        step.start(np.asarray(prompts, dtype=np.int64), probs=False)
        out = np.empty((len(prompts), length), dtype=np.int32)
        keep = np.arange(len(prompts))
        for i in range(length):
            out[:, i] = self.draw_next(step.history, step.length, rng)
            step.advance(out[:, i], keep, probs=False)
        return out

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` blocks of ``block_len`` tokens (after real prompts when ``prompt_len`` > 0)."""
        prompts = draw_prompts(self.prompts, self.prompt_len, n, rng)
        return self.generate(prompts, self.block_len, rng)

    # -- checkpoints -------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        return {
            f"k{k}/{name}": np.asarray(v)
            for k, t in enumerate(self.tables, start=1)
            for name, v in t.items()
            if name != "cumulative"
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.tables = [
            {
                name: np.array(state[f"k{k}/{name}"])
                for name in ("keys", "counts", "contexts", "start", "types", "total", "discount")
            }
            for k in range(1, self.order + 1)
            if f"k{k}/keys" in state
        ]


def draw_prompts(source: np.ndarray | None, prompt_len: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` prompts: the first ``prompt_len`` tokens of random rows of ``source`` (n, prompt_len)."""
    if prompt_len == 0 or source is None:
        return np.zeros((n, 0), dtype=np.int64)
    return np.asarray(source)[rng.integers(len(source), size=n), :prompt_len]


class _NGramStepper:
    def __init__(self, model: NGram):
        self.model = model
        self.width = max(model.order - 1, 1)

    def _probs(self) -> np.ndarray:
        probs = self.model.next_probs(self.history, self.length)
        return np.log(probs, out=probs)

    def start(self, prompts: np.ndarray, probs: bool = True) -> np.ndarray | None:
        B, P = prompts.shape
        self.history = np.zeros((B, self.width), dtype=np.int64)
        take = min(P, self.width)
        if take:
            self.history[:, self.width - take :] = prompts[:, P - take :]
        self.length = np.full(B, P)
        return self._probs() if probs else None

    def advance(self, tokens: np.ndarray, keep: np.ndarray, probs: bool = True) -> np.ndarray | None:
        self.history = np.concatenate([self.history[keep, 1:], np.asarray(tokens)[:, None]], axis=1)
        self.length = self.length[keep] + 1
        return self._probs() if probs else None
