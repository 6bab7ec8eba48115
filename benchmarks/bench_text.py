"""Small GPT speed: generation tokens/s with and without the KV cache, and training tokens/s.

Run: ``python benchmarks/bench_text.py``. Prints a table and returns its rows.
"""

from __future__ import annotations

import time

import numpy as np


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(batch: int = 64, length: int = 64, train_blocks: int = 256) -> list[dict]:
    from autophagy.data import text as wiki
    from autophagy.engine.step import Step
    from autophagy.models.transformer import GPT, GPTArchitecture, GPTTraining

    corpus = wiki.corpus()
    architecture = GPTArchitecture(vocab_size=corpus.vocab_size, context=length + 1, d_model=128, layers=2, heads=4)
    model = GPT(architecture, GPTTraining(epochs=1, batch_size=32), block_len=length)
    rows = []
    seconds = _timed(lambda: model.fit(corpus.train[:train_blocks], Step(np.random.default_rng(0))))
    rows.append({"task": "training", "tokens": train_blocks * length, "seconds": seconds})
    prompts = corpus.test[:batch, :1]
    for cache in (True, False):
        seconds = _timed(lambda: model.generate(prompts, length, np.random.default_rng(1), cache=cache))
        rows.append(
            {
                "task": f"generation, {'with' if cache else 'without'} KV cache",
                "tokens": batch * length,
                "seconds": seconds,
            }
        )
    for row in rows:
        row["tokens_per_s"] = row["tokens"] / row["seconds"]
    print(f"small GPT: {model.n_params:,} parameters, batch {batch}, {length} tokens")
    print(f"{'task':34s} {'tokens':>8s} {'seconds':>8s} {'tokens/s':>10s}")
    for row in rows:
        print(f"{row['task']:34s} {row['tokens']:8d} {row['seconds']:8.2f} {row['tokens_per_s']:10.0f}")
    return rows


if __name__ == "__main__":
    main()
