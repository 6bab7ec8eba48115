"""A small GPT (decoder-only transformer) trained from scratch on blocks of token ids.

Pre-norm blocks of causal self-attention and a GELU MLP, learned positions, the output
layer tied to the token embedding (Radford et al. 2019). Token ``vocab`` is a
beginning-of-block marker: a block x_0..x_{L-1} is read as [BOS, x_0..x_{L-2}] and every
x_i is predicted, so perplexities cover every token. Generation keeps a key/value cache
(each step feeds one token) and decodes many rows at once (see :mod:`.decoding`). The
network lives on :func:`~autophagy.models.device.default_device`; random numbers come from
a CPU generator, and log-probabilities and checkpoints go back as CPU numpy arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..engine.step import Step
from .decoding import Decoding, generate
from .device import default_device
from .lm import CausalLM
from .starting import Settings
from .trainer import Trainer, batch_index, torch_generator


class _Block(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, cache=None):
        B, T, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(B, T, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        if cache is not None:
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        # a cached step feeds one token, which may see every key: no mask is needed then
        y = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None)
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, d))
        x = x + self.mlp(self.ln2(x))
        return x, (k, v)


class GPTNet(nn.Module):
    """The network: logits over ``vocab`` tokens for each position of (B, T) ids."""

    def __init__(self, vocab: int, context: int, d_model: int, layers: int, heads: int):
        super().__init__()
        if d_model % heads:
            raise ValueError("d_model must be a multiple of heads")
        self.vocab, self.context = vocab, context
        self.tok = nn.Embedding(vocab + 1, d_model)
        self.pos = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList(_Block(d_model, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(d_model)

    def init_weights(self, generator: torch.Generator) -> None:
        """GPT-2 style initialisation: normal(0, 0.02), residual projections scaled down.

        The numbers come from the CPU ``generator`` whatever the device, then are copied over."""
        scale = 0.02 / math.sqrt(2 * len(self.blocks))
        for name, p in self.named_parameters():
            if p.dim() == 1:
                nn.init.ones_(p) if name.endswith("weight") else nn.init.zeros_(p)
            else:
                std = scale if name.endswith(("proj.weight", "mlp.2.weight")) else 0.02
                with torch.no_grad():
                    if p.device.type == "cpu":
                        p.normal_(0.0, std, generator=generator)
                    else:
                        p.copy_(torch.empty(p.shape, dtype=p.dtype).normal_(0.0, std, generator=generator))

    def forward(self, ids, cache=None, offset: int = 0):
        T = ids.shape[1]
        x = self.tok(ids) + self.pos(torch.arange(offset, offset + T, device=ids.device))
        new_cache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, None if cache is None else cache[i])
            new_cache.append(kv)
        logits = self.ln(x) @ self.tok.weight[: self.vocab].T
        return logits, new_cache


@dataclass(frozen=True)
class GPTArchitecture(Settings):
    """What shapes a GPT's weights: ``vocab_size`` tokens (and a start token), ``context``
    positions, width ``d_model``, ``layers`` blocks of ``heads`` attention heads."""

    vocab_size: int = 2048
    context: int = 65
    d_model: int = 128
    layers: int = 2
    heads: int = 4


@dataclass(frozen=True)
class GPTTraining(Settings):
    """How a GPT trains on a training set: ``epochs`` passes in batches of ``batch_size`` blocks at ``lr``."""

    epochs: float = 1.0
    batch_size: int = 32
    lr: float = 2e-3


class GPT(CausalLM):
    """A small GPT of ``architecture`` as a loop model (unbatched: one per replicate).

    ``fit(blocks, step)`` trains as ``training`` says with AdamW (from a fresh initialisation
    at the first step, and again each generation when ``warm_start`` is False; otherwise it
    fine-tunes the previous generation's weights). With ``pretrained`` weights the first step
    is the starting model itself and a fit that does not warm-start fine-tunes the starting
    model instead of a fresh one. ``sample(n, rng)`` returns (n, block_len) int32 blocks made
    with ``decoding``, each after a ``prompt_len``-token prompt when ``prompt_len`` > 0.
    """

    batched = False
    logprob_batch, sample_batch = 256, 512

    def __init__(
        self,
        architecture: GPTArchitecture,
        training: GPTTraining = GPTTraining(),
        *,
        block_len: int = 64,
        warm_start: bool = True,
        decoding: Decoding = Decoding(),
        prompts: np.ndarray | None = None,
        prompt_len: int = 0,
        pretrained: dict[str, np.ndarray] | None = None,
        progress: bool = False,
    ):
        if architecture.context < prompt_len + block_len + 1:
            raise ValueError(
                f"a GPT with {architecture.context} positions cannot read a {prompt_len}-token prompt and "
                f"{block_len} tokens after its start token"
            )
        self.architecture, self.training = architecture, training
        self.vocab, self.block_len, self.warm_start = architecture.vocab_size, block_len, warm_start
        self.decoding, self.prompts, self.prompt_len = decoding, prompts, prompt_len
        self.progress = progress
        self.device = default_device()
        self.pretrained = pretrained
        arch = architecture
        self.net = GPTNet(arch.vocab_size, arch.context, arch.d_model, arch.layers, arch.heads).to(self.device)

    @property
    def context(self) -> int:
        """The number of positions the network has (the start token, a prompt and the generated
        tokens)."""
        return self.net.context

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    def _inputs(self, blocks: torch.Tensor) -> torch.Tensor:
        bos = torch.full((len(blocks), 1), self.vocab, dtype=torch.long, device=blocks.device)
        return torch.cat([bos, blocks[:, :-1]], dim=1)

    def logits(self, blocks: torch.Tensor) -> torch.Tensor:
        return self.net(self._inputs(blocks))[0]

    def fit(self, data: np.ndarray, step: Step) -> None:
        """Train on ``data`` (n, block_len) token ids: from ``pretrained`` (or a fresh
        initialisation without one) at the first step and at every step unless ``warm_start``;
        with ``pretrained``, the first step is the starting model itself. One draw of ``step.rng``."""
        gen = torch_generator(step.rng)
        if step.first or not self.warm_start:
            if self.pretrained is not None:
                self.start_from(self.pretrained)
            else:
                self.net.init_weights(gen)
        if self.pretrained is not None and step.first:
            return
        blocks = torch.as_tensor(np.asarray(data), dtype=torch.long, device=self.device)
        steps = max(1, math.ceil(self.training.epochs * len(blocks) / self.training.batch_size))
        self.train_steps(self.trainer(steps, self.progress), blocks, range(steps), gen)

    def trainer(self, total: int, progress: bool = False) -> Trainer:
        """AdamW (betas 0.9, 0.95, weight decay 0.01) over ``total`` steps: linear warm-up over a
        tenth of them, then a cosine decay; gradients clipped at norm 1."""
        lr, warmup = self.training.lr, max(1, total // 10)

        def schedule(k: int) -> float:
            return lr * min(1.0, (k + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(k, total) / total))

        opt = torch.optim.AdamW(self.net.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.01)
        return Trainer([self.net], {"adamw": opt}, schedule=schedule, clip=1.0, progress=progress)

    def train_steps(self, trainer: Trainer, blocks: torch.Tensor, steps: range, gen: torch.Generator) -> None:
        """Steps ``steps`` of :meth:`trainer` on random batches of ``blocks`` drawn from ``gen``."""

        def train_step(k, update):
            update(self.loss(blocks[batch_index(blocks, self.training.batch_size, gen)]))

        trainer.run(steps, train_step)

    def weights(self) -> dict[str, np.ndarray]:
        """The network's weights as CPU arrays: what a shipped starting model holds."""
        return {k: v.detach().cpu().numpy().copy() for k, v in self.net.state_dict().items()}

    def start_from(self, weights: dict[str, np.ndarray]) -> None:
        """Set the network to ``weights`` (see :meth:`weights`)."""
        self.net.load_state_dict({k: torch.tensor(v, dtype=torch.float32) for k, v in weights.items()})
        self.net.eval()

    def stepper(self, cache: bool = True) -> _GPTStepper:
        return _GPTStepper(self.net, cache)

    def generate(
        self,
        prompts: np.ndarray,
        length: int,
        rng: np.random.Generator,
        decoding: Decoding | None = None,
        cache: bool = True,
    ) -> np.ndarray:
        """``length`` new tokens after each prompt (B, P), shaped (B, length)."""
        return generate(self.stepper(cache), prompts, length, self.vocab, decoding or self.decoding, rng)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights as CPU numpy arrays (whatever the device)."""
        return {f"net/{k}": v.detach().cpu().numpy().copy() for k, v in self.net.state_dict().items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.net.load_state_dict(
            {k[4:]: torch.from_numpy(np.array(v)) for k, v in state.items() if k.startswith("net/")}
        )
        self.net.eval()


class _GPTStepper:
    """Feeds the network one token a step, with (``cache``) or without a key/value cache."""

    def __init__(self, net: GPTNet, cache: bool):
        self.net, self.use_cache = net, cache
        self.device = next(net.parameters()).device

    @torch.no_grad()
    def _run(self, ids: torch.Tensor, cache, offset: int) -> np.ndarray:
        logits, cache = self.net(ids, cache, offset)
        self.cache = cache
        return torch.log_softmax(logits[:, -1].double(), -1).cpu().numpy()

    def start(self, prompts: np.ndarray) -> np.ndarray:
        bos = np.full((len(prompts), 1), self.net.vocab)
        self.ids = torch.as_tensor(np.concatenate([bos, prompts], axis=1), dtype=torch.long, device=self.device)
        return self._run(self.ids, None, 0)

    def advance(self, tokens: np.ndarray, keep: np.ndarray) -> np.ndarray:
        keep_t = torch.as_tensor(keep, dtype=torch.long, device=self.device)
        new = torch.as_tensor(np.asarray(tokens), dtype=torch.long, device=self.device)[:, None]
        kept = len(keep) == len(self.ids) and np.array_equal(keep, np.arange(len(keep)))  # sampling keeps every row
        self.ids = torch.cat([self.ids if kept else self.ids[keep_t], new], dim=1)
        if not self.use_cache:
            return self._run(self.ids, None, 0)
        cache = self.cache if kept else [(k[keep_t], v[keep_t]) for k, v in self.cache]
        return self._run(new, cache, self.ids.shape[1] - 1)
