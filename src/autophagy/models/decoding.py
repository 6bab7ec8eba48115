"""Decoding for language models: sampling (temperature, top-p), beam search, repetition penalty.

A model exposes a *stepper*: ``start(prompts)`` reads prompts (B, P) and returns the
log-probabilities of the next token (B, V); ``advance(tokens, keep)`` first keeps rows
``keep`` of its state (beam search reorders them), then appends ``tokens`` (B,) and returns
the next log-probabilities. :func:`autophagy.models.decoding.generate` drives any stepper
with numpy random numbers, so one seed gives the same text whatever the model's backend.
A :class:`autophagy.models.decoding.LogitProcessor` given to
:class:`autophagy.models.decoding.Decoding` adjusts each sampled token's distribution after
the decoding settings, given the tokens before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..params import ParameterError


class Stepper(Protocol):
    def start(self, prompts: np.ndarray) -> np.ndarray: ...

    def advance(self, tokens: np.ndarray, keep: np.ndarray) -> np.ndarray: ...


class LogitProcessor(Protocol):
    """Adjusts the next-token log-probabilities ``logprobs`` (B, V) given ``context`` (B, t),
    each row's tokens so far (its prompt, then the tokens generated), and returns
    log-probabilities (B, V) again (it may overwrite ``logprobs`` and return it)."""

    def __call__(self, logprobs: np.ndarray, context: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Decoding:
    """How text is produced: ``beams`` > 1 is beam search (deterministic, needs prompts);
    otherwise sampling at ``temperature`` from the top-p nucleus (``temperature`` 0: greedy,
    the most probable token at every step). ``repetition_penalty``
    multiplies the log-probability of every token already in the row (Keskar et al. 2019
    apply it to logits; on log-probabilities, which are negative, a penalty > 1 lowers them).
    ``processor``, when set, then adjusts each sampled token's log-probabilities given the
    tokens before it (a :class:`autophagy.models.decoding.LogitProcessor`, such as the
    watermark :class:`autophagy.mitigations.watermark.Watermark`).
    """

    temperature: float = 1.0
    top_p: float = 1.0
    beams: int = 1
    repetition_penalty: float = 1.0
    processor: LogitProcessor | None = None

    def __post_init__(self):
        if not self.temperature >= 0:
            raise ParameterError(f"temperature={self.temperature!r} is invalid: expected a number >= 0")
        if not 0 < self.top_p <= 1:
            raise ParameterError(f"top_p={self.top_p!r} is invalid: expected a number in (0, 1]")
        if self.beams < 1:
            raise ParameterError(f"beams={self.beams!r} is invalid: expected an integer >= 1")
        if not self.repetition_penalty >= 1:
            raise ParameterError(f"repetition_penalty={self.repetition_penalty!r} is invalid: expected a number >= 1")
        if self.processor is not None and self.beams > 1:
            raise ParameterError("a logit processor biases sampling: it needs beams=1")


def log_softmax(logits: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
    """Each row of ``logits`` (B, V) made log-probabilities, in place (``logits`` is returned);
    ``scratch``, a buffer shaped like it, holds the exponentials (a generation reuses one rather
    than allocating a (B, V) array at every token)."""
    np.subtract(logits, logits.max(axis=1, keepdims=True), out=logits)
    total = np.exp(logits, out=scratch).sum(axis=1, keepdims=True)
    return np.subtract(logits, np.log(total), out=logits)


def adjust(
    logprobs: np.ndarray,
    seen: np.ndarray | None,
    decoding: Decoding,
    out: np.ndarray | None = None,
    scratch: np.ndarray | None = None,
) -> np.ndarray:
    """Log-probabilities after the repetition penalty, temperature and top-p (rows sum to 1),
    written into ``out`` when given (a float64 buffer shaped like ``logprobs``, which is kept);
    ``scratch``: see :func:`log_softmax`."""
    if out is None:
        out = np.array(logprobs, dtype=np.float64)
    else:
        np.copyto(out, logprobs)
    if decoding.repetition_penalty != 1 and seen is not None:
        np.multiply(out, decoding.repetition_penalty, out=out, where=seen)
    if decoding.temperature == 0:  # greedy: all the mass on the most probable token(s)
        top = out >= out.max(axis=1, keepdims=True)
        out[top], out[~top] = 0.0, -np.inf
    elif decoding.temperature != 1:
        np.divide(out, decoding.temperature, out=out)
    log_softmax(out, scratch)
    if decoding.top_p < 1:
        order = np.argsort(-out, axis=1, kind="stable")
        sorted_p = np.exp(np.take_along_axis(out, order, axis=1))
        before = np.cumsum(sorted_p, axis=1) - sorted_p  # mass of strictly more likely tokens
        drop = np.zeros_like(out, dtype=bool)
        np.put_along_axis(drop, order, before >= decoding.top_p, axis=1)
        out[drop] = -np.inf
        log_softmax(out, scratch)
    return out


def _draw(logprobs: np.ndarray, rng: np.random.Generator, scratch: np.ndarray | None = None) -> np.ndarray:
    """One token per row by inverse CDF (the CDF is formed in ``scratch`` when given)."""
    cdf = np.exp(logprobs, out=scratch)
    np.cumsum(cdf, axis=1, out=cdf)
    u = rng.random(len(cdf))[:, None] * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), cdf.shape[1] - 1)


def generate(
    stepper: Stepper, prompts: np.ndarray, length: int, vocab: int, decoding: Decoding, rng: np.random.Generator
) -> np.ndarray:
    """``length`` new token ids after each prompt, shaped (B, length) (int32)."""
    prompts = np.asarray(prompts, dtype=np.int64)
    if prompts.ndim != 2:
        raise ValueError("prompts must be shaped (B, P)")
    if decoding.beams > 1:
        if prompts.shape[1] == 0:
            raise ParameterError("beam search is deterministic: it needs prompts (prompt_len > 0)")
        return _beam_search(stepper, prompts, length, vocab, decoding)
    (B, P), processor = prompts.shape, decoding.processor
    seen = _seen(prompts, vocab) if decoding.repetition_penalty != 1 else None
    logprobs = stepper.start(prompts)
    tokens = np.empty((B, P + length), dtype=np.int64)  # each row's prompt, then its new tokens
    tokens[:, :P] = prompts
    keep = np.arange(B)
    adjusted, scratch = np.empty((B, logprobs.shape[1])), np.empty((B, logprobs.shape[1]))
    for i in range(length):
        probs = adjust(logprobs, seen, decoding, out=adjusted, scratch=scratch)
        if processor is not None:
            probs = processor(probs, tokens[:, : P + i])
        token = _draw(probs, rng, scratch)
        tokens[:, P + i] = token
        if seen is not None:
            seen[keep, token] = True
        if i + 1 < length:
            logprobs = stepper.advance(token, keep)
    return tokens[:, P:].astype(np.int32)


def _seen(prompts: np.ndarray, vocab: int) -> np.ndarray:
    seen = np.zeros((len(prompts), vocab), dtype=bool)
    rows = np.repeat(np.arange(len(prompts)), prompts.shape[1])
    seen[rows, prompts.ravel()] = True
    return seen


def _beam_search(stepper: Stepper, prompts: np.ndarray, length: int, vocab: int, decoding: Decoding) -> np.ndarray:
    """The most likely continuation among ``beams`` kept at each step (scores: summed
    adjusted log-probabilities, no length normalisation: every beam has the same length)."""
    B, K = len(prompts), decoding.beams
    seen = _seen(np.repeat(prompts, K, axis=0), vocab) if decoding.repetition_penalty != 1 else None
    score = np.tile(np.r_[0.0, np.full(K - 1, -np.inf)], B)  # one live beam per prompt at first
    tokens = np.empty((B * K, 0), dtype=np.int32)
    # each prompt is read once; its K beams share that state until the first step picks their parents
    logprobs = np.repeat(stepper.start(prompts), K, axis=0)
    for i in range(length):
        total = (score[:, None] + adjust(logprobs, seen, decoding)).reshape(B, K * vocab)
        best = np.argpartition(-total, K - 1, axis=1)[:, :K]
        best = np.take_along_axis(
            best, np.argsort(-np.take_along_axis(total, best, axis=1), axis=1, kind="stable"), axis=1
        )
        score = np.take_along_axis(total, best, axis=1).ravel()
        parent = (np.arange(B)[:, None] * K + best // vocab).ravel()
        token = (best % vocab).ravel().astype(np.int32)
        tokens = np.concatenate([tokens[parent], token[:, None]], axis=1)
        if seen is not None:
            seen = seen[parent]
            seen[np.arange(B * K), token] = True
        if i + 1 < length:  # at the first step the stepper holds one row per prompt: beam row b * K + j is prompt b's
            logprobs = stepper.advance(token, parent // K if i == 0 else parent)
    return tokens.reshape(B, K, length)[:, 0]
