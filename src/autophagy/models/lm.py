"""What the two torch language models (the small GPT and SmolLM2) share: the next-token loss,
the log-probabilities of given blocks and sampling blocks after real prompts."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .ngram import draw_prompts


class CausalLM:
    """A language model whose :meth:`logits` predict every token of a batch of blocks.

    Subclasses give ``device``, ``logprob_batch`` (blocks a forward pass when scoring),
    ``sample_batch`` (rows decoded at once), ``block_len``, ``prompts`` and ``prompt_len``,
    ``logits(blocks)``: (B, L, V) logits at each position for (B, L) token ids on ``device``
    (position i reads only the tokens before i, after the start token), and
    ``generate(prompts, length, rng)``."""

    device: torch.device
    logprob_batch: int
    sample_batch: int
    block_len: int
    prompts: np.ndarray | None
    prompt_len: int

    def logits(self, blocks: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, blocks: torch.Tensor) -> torch.Tensor:
        """The mean cross-entropy (nats) of every token of ``blocks``: the training loss."""
        logits = self.logits(blocks)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), blocks.reshape(-1))

    @torch.no_grad()
    def token_logprobs(self, blocks: np.ndarray) -> np.ndarray:
        """log P(token | the tokens before it in its block), nats, shaped like ``blocks``."""
        blocks = torch.as_tensor(np.asarray(blocks), dtype=torch.long)
        out = []
        for part in blocks.split(self.logprob_batch):
            part = part.to(self.device)
            logprobs = torch.log_softmax(self.logits(part).float(), -1)
            out.append(logprobs.gather(2, part[..., None])[..., 0].cpu())
        return torch.cat(out).numpy().astype(np.float64)

    def perplexity(self, blocks: np.ndarray) -> float:
        """exp of the mean negative log-likelihood per token of ``blocks``."""
        return float(np.exp(-self.token_logprobs(blocks).mean()))

    def generate(self, prompts: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` blocks of ``block_len`` tokens (after real prompts when ``prompt_len`` > 0), int32."""
        prompts = draw_prompts(self.prompts, self.prompt_len, n, rng)
        parts = [
            self.generate(prompts[i : i + self.sample_batch], self.block_len, rng)
            for i in range(0, n, self.sample_batch)
        ]
        return np.concatenate(parts).astype(np.int32)
