"""``text``: a language model trained, generation after generation, on its own text (Figure 4).

Data are blocks of ``block_len`` token ids of the Wikipedia sample (train split); the model
is a smoothed n-gram (``model=ngram``), a small GPT (``gpt``: by default, ``pretrained=true``,
generation 1 is the shipped starting model trained on the training articles by ``autophagy
pretrain wiki-gpt``, and later generations fine-tune it; ``pretrained=false`` trains from
scratch) or SmolLM2-135M fine-tuned each generation (``smollm2``, Shumailov et al.'s setting,
for a GPU).
Each generation's training set is made with the decoding settings (temperature, top-p,
beam search, repetition penalty); with ``prompt_len`` > 0 each synthetic block continues
the first ``prompt_len`` tokens of a real training block, as in Shumailov et al.

Columns of ``metrics.parquet`` (besides ``generation, replicate, train_size, real_share, real_drawn``),
measured on ``eval_samples`` blocks the generation's model writes (generation 0: real test
blocks):

- ``perplexity_real``: perplexity of the real test split under the model (NaN at 0; its
  ``perplexity_blocks`` evenly spaced blocks when that is set, as the smoke profiles do);
- ``perplexity_gen1``: perplexity of the model's text under a reference generation-1 model
  (the same kind, fitted on ``samples`` real blocks with a fixed seed);
- ``perplexity_self``: perplexity of the model's text under the model itself (NaN at 0): the
  entropy part of ``perplexity_gen1``, whose log is log ``perplexity_self`` plus the texts'
  mean log-ratio of the model's probability to the reference's (the divergence part);
- ``distinct_1``, ``distinct_2``, ``distinct_3``: distinct n-grams over all n-grams;
- ``self_bleu``: mean BLEU of each text against the others, in [0, 1];
- ``semantic_diversity``: mean pairwise cosine distance of all-MiniLM-L6-v2 embeddings;
- ``duplication``: share of a text's 4-grams repeating an earlier one in it (mean);
- ``duplicate_share``: share of texts identical to an earlier one;
- ``vocabulary``: distinct words in the texts.

With ``--out`` the texts are saved as ``samples/gNNN_rRRR.json`` (``samples``, the
continuation of a fixed test prompt, and each sample's perplexity under the reference and
under its own model).

``text-shumailov`` is the same loop under Shumailov et al.'s protocol (their released code):
every generation is fine-tuned from the same starting model, each synthetic block is the
64 tokens a model writes after a real 64-token block, decoded by 5-way beam search with a
repetition penalty of 3.0.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import modes
from ..engine.loop import LoopSpec
from ..engine.step import Step
from ..files import atomic_write
from ..metrics.text import rank_frequency, variety
from ..mitigations import filters
from ..mitigations.watermark import GreenList
from ..models.decoding import Decoding
from ..models.starting import network
from ..params import ParameterError, choice, flag, integer, number
from .loops import loop_params, training_sets_held
from .registry import Experiment, register

MODELS = ("ngram", "gpt", "smollm2")
SHOW_WORDS = 8  # words of the first test block that every generation continues
SHOW_LENGTH = 40  # tokens of each generation's continuation
REFERENCE_SEED = 20240724  # the reference generation-1 model is the same for every run
WATERMARK_KEY = 15485863  # the producers' secret watermark key (any fixed number)
DEFAULT_LR = {"gpt": 2e-3, "smollm2": 5e-5}

COLUMNS = {
    "perplexity_real": "perplexity of the real test split under the generation's model",
    "perplexity_gen1": "perplexity of the generation's text under a generation-1 model",
    "perplexity_self": "perplexity of the generation's text under its own model (its entropy part)",
    "distinct_1": "distinct words over all words of the generated texts",
    "distinct_2": "distinct word pairs over all pairs",
    "distinct_3": "distinct word triples over all triples",
    "self_bleu": "mean BLEU of each text against the others (0 to 1)",
    "semantic_diversity": "mean pairwise cosine distance of sentence embeddings",
    "duplication": "share of a text's 4-grams that repeat within it (mean over texts)",
    "duplicate_share": "share of texts identical to an earlier one",
    "vocabulary": "distinct words in the generated texts",
}


class RealText:
    """Generation 0: the real text (its metrics are those of real test blocks)."""


def load_corpus(params: dict[str, Any]):
    """The token blocks the configured model reads (BPE for ngram/gpt, SmolLM2's own)."""
    from ..data import text

    if params["model"] == "smollm2":
        from ..models.smollm2 import corpus

        return corpus(params["block_len"])
    return text.corpus(params["block_len"], params["vocab_size"])


def decoding_of(params: dict[str, Any], vocab: int) -> Decoding:
    """The configured decoding of a model of ``vocab`` tokens: the producers' green-list
    watermark is its logit processor when ``watermark_delta`` > 0."""
    marks = GreenList(vocab, params["watermark_gamma"], WATERMARK_KEY)
    return Decoding(
        params["temperature"],
        params["top_p"],
        params["beams"],
        params["repetition_penalty"],
        marks.watermark(params["watermark_delta"]),
    )


def gpt_network(params: dict[str, Any], vocab_size: int):
    """The architecture of the GPT ``params`` asks for (over ``vocab_size`` tokens) and its
    starting weights (None from scratch), after checking them against the shipped GPT's card
    and the positions a prompt and a block need."""
    from ..models.transformer import GPTArchitecture

    needed = params["prompt_len"] + params["block_len"] + 1
    architecture, start = network("wiki-gpt", GPTArchitecture, params, vocab_size=vocab_size, context=needed)
    if architecture.context < needed:
        raise ParameterError(
            f"prompt_len + block_len = {needed - 1} exceeds the starting GPT's {architecture.context - 1} "
            f"positions: shorten them, or set pretrained=false"
        )
    return architecture, start


def prepare(params: dict[str, Any]) -> None:
    """Check a GPT's parameters against the shipped GPT and load it, before the run directory is written."""
    if params["model"] == "gpt":
        gpt_network(params, params["vocab_size"])


def model_factory(params: dict[str, Any], corpus, progress: bool = False):
    """A function making a fresh model of the configured kind."""
    common = {
        "block_len": params["block_len"],
        "decoding": decoding_of(params, corpus.vocab_size),
        "prompts": corpus.train,
        "prompt_len": params["prompt_len"],
    }
    lr = params["lr"] or DEFAULT_LR.get(params["model"], 0)
    if params["model"] == "ngram":
        from ..models.ngram import NGram

        return lambda: NGram(corpus.vocab_size, params["order"], **common)
    if params["model"] == "gpt":
        from ..models.transformer import GPT, GPTTraining

        architecture, start = gpt_network(params, corpus.vocab_size)
        training = GPTTraining.from_params(params, lr=lr)
        return lambda: GPT(
            architecture, training, pretrained=start, warm_start=params["warm_start"], progress=progress, **common
        )
    from ..models.smollm2 import SmolLM2

    return lambda: SmolLM2(
        epochs=params["epochs"],
        batch_size=params["batch_size"],
        lr=lr,
        warm_start=params["warm_start"],
        progress=progress,
        **common,
    )


def build(params: dict[str, Any], progress: bool = False) -> LoopSpec:
    """The loop of ``params``, screened by the scraper's watermark test when ``watermark_z`` > 0."""
    corpus = load_corpus(params)
    factory = model_factory(params, corpus, progress)

    def real(n: int, rng) -> np.ndarray:
        pool = corpus.train
        return pool[rng.choice(len(pool), size=n, replace=n > len(pool))]

    evaluation = Evaluation(params, corpus, factory, real)
    screen = None
    if params["watermark_z"] > 0:
        # the scraper's key screens the scrape whether or not the producers watermark (delta 0:
        # only the false positives remain)
        marks = GreenList(corpus.vocab_size, params["watermark_gamma"], WATERMARK_KEY)
        screen = filters.ScoreFilter(marks.z_scores, params["watermark_z"])
    return LoopSpec(
        make_model=factory,
        real=real,
        metrics=evaluation.metrics,
        truth=RealText(),
        filter=screen,
        artifacts=evaluation.save,
    )


class Evaluation:
    """The text measures of a generation, and the texts they were measured on.

    :meth:`metrics` scores ``eval_samples`` texts of the model (real test blocks at generation
    0); :meth:`save` writes those same texts, with the continuation of a fixed test prompt, to
    ``samples/gNNN_rRRR.json`` of the run directory.
    """

    def __init__(self, params: dict[str, Any], corpus, factory, real):
        self.params, self.corpus, self.factory, self.real = params, corpus, factory, real
        self._reference: list[Any] = []
        self._measured: dict[tuple[int, int], dict[str, Any]] = {}  # (generation, unit) -> texts, until saved
        # the prompt: the first SHOW_WORDS words of the test split; its real continuation follows
        opening = corpus.decode(corpus.test[0]).split(" ")
        self.show = np.asarray([corpus.encode(" ".join(opening[:SHOW_WORDS]))])
        self.real_continuation = " " + " ".join(opening[SHOW_WORDS:])
        self.scored = scored_blocks(corpus.test, params["perplexity_blocks"])

    def reference(self):
        """The generation-1 model every run is measured against (the same kind, fixed seed)."""
        if not self._reference:
            rng = np.random.default_rng(REFERENCE_SEED)
            model = self.factory()
            model.fit(self.real(self.params["samples"], rng), Step(rng))
            self._reference.append(model)
        return self._reference[0]

    def metrics(self, model, step: Step) -> dict[str, Any]:
        m, corpus, rng = self.params["eval_samples"], self.corpus, step.rng
        if isinstance(model, RealText):
            ids = corpus.test[rng.choice(len(corpus.test), size=min(m, len(corpus.test)), replace=False)]
            perplexity_real, continuation = float("nan"), self.real_continuation
            own = np.full(len(ids), np.nan)
        else:
            ids = model.sample(m, rng)
            perplexity_real = model.perplexity(self.scored)
            room = getattr(model, "context", None)  # a GPT has a fixed number of positions
            length = SHOW_LENGTH if room is None else max(0, min(SHOW_LENGTH, room - 1 - self.show.shape[1]))
            continuation = corpus.decode(model.generate(self.show, length, rng)[0]) if length else ""
            own = _text_perplexities(model, ids)
        texts = corpus.decode_all(ids)
        per_sample = _text_perplexities(self.reference(), ids)
        if step.run_dir is not None:
            self._measured[step.generation, step.unit] = {
                "generation": step.generation,
                "replicate": step.unit,
                "prompt": corpus.decode(self.show[0]),
                "continuation": continuation,
                "samples": texts,
                "perplexity_gen1": per_sample.tolist(),
                "perplexity_self": [None if np.isnan(x) else float(x) for x in own],
            }
        return {
            "perplexity_real": perplexity_real,
            "perplexity_gen1": float(np.exp(np.log(per_sample).mean())),
            "perplexity_self": float(np.exp(np.log(own).mean())),
            **variety(texts, semantic=self.params["semantic"]),
        }

    def save(self, model, step: Step) -> None:
        record = self._measured.pop((step.generation, step.unit), None)
        if record is None:
            return
        folder = step.run_dir / "samples"
        folder.mkdir(exist_ok=True)
        atomic_write(folder / f"g{step.generation:03d}_r{step.unit:03d}.json", json.dumps(record).encode())


def scored_blocks(test: np.ndarray, count: int) -> np.ndarray:
    """The real test blocks ``perplexity_real`` scores: all of them (``count`` 0), or ``count``
    evenly spaced ones, so that a quick run still reads every part of the split."""
    if count == 0 or count >= len(test):
        return test
    return test[np.linspace(0, len(test) - 1, count).round().astype(int)]


def _text_perplexities(model, ids: np.ndarray) -> np.ndarray:
    """Each text's perplexity under ``model`` (one value per row of ``ids``)."""
    if hasattr(model, "token_probs"):
        logprobs = np.log(np.clip(model.token_probs(ids), 1e-300, None))
    else:
        logprobs = model.token_logprobs(ids)
    return np.exp(-logprobs.mean(axis=1))


def load_samples(out) -> dict[tuple[int, int], dict[str, Any]]:
    """The saved texts of a run directory, by (generation, replicate)."""
    records = {}
    for path in sorted(Path(out, "samples").glob("g*_r*.json")):
        record = json.loads(path.read_text())
        records[record["generation"], record["replicate"]] = record
    return records


def zipf_curves(out, generations: list[int], replicate: int = 0) -> dict[int, np.ndarray]:
    """Rank-frequency curves (word counts, sorted) of the saved texts at ``generations``."""
    saved = load_samples(out)
    return {
        g: rank_frequency(saved[g, replicate if g else 0]["samples"])
        for g in generations
        if (g, replicate if g else 0) in saved
    }


def check(params: dict[str, Any]) -> None:
    if params["watermark_z"] > 0 and not modes.get(params["mode"]).web:
        raise ParameterError(f"watermark_z screens a scraped pool: it needs a web mode: {', '.join(modes.WEB_MODES)}")
    if params["beams"] > 1 and params["watermark_delta"] > 0:
        raise ParameterError("a watermark biases sampling: it needs beams=1")
    if params["beams"] > 1 and params["prompt_len"] == 0:
        raise ParameterError("beams > 1 is deterministic: it needs prompts (set prompt_len > 0)")
    if params["temperature"] == 0 and params["prompt_len"] == 0:
        raise ParameterError("temperature 0 (greedy) is deterministic: it needs prompts (set prompt_len > 0)")
    if params["model"] == "ngram" and params["vocab_size"] ** params["order"] >= 2**62:
        raise ParameterError("vocab_size ** order must stay below 2^62 for the n-gram's keys")
    if params["model"] != "ngram" and params["d_model"] % params["heads"]:
        raise ParameterError("d_model must be a multiple of heads")


def memory_bytes(params: dict[str, Any]) -> float:
    """Bytes of token blocks held at once (accumulate keeps every generation's)."""
    return 4.0 * params["replicates"] * params["samples"] * params["block_len"] * training_sets_held(params)


def figures(history) -> dict[str, Any]:
    from .. import plotting

    out = {}
    for metric, label in (
        ("perplexity_real", "perplexity of real test text"),
        ("distinct_2", "distinct-2"),
        ("semantic_diversity", "semantic diversity"),
    ):
        frame = history.frame
        if frame[metric].notna().any():
            out[metric] = plotting.band_figure(history, metric, label)
    return out


TEXT = register(
    Experiment(
        name="text",
        summary="a language model trained on its own text (Shumailov et al.; Xing et al.'s Figure 4)",
        params=loop_params(generations=10, samples=2000, replicates=3)
        + [
            choice(
                "model",
                "ngram",
                "ngram (smoothed), gpt (small, pretrained and shipped) or smollm2 (pretrained 135M)",
                MODELS,
            ),
            integer("block_len", 64, "tokens in a training block (Shumailov et al.: 64)", low=4, high=1024),
            integer("vocab_size", 2048, "ngram/gpt: size of the BPE vocabulary", low=260, high=50_000),
            integer("order", 3, "ngram: order n", low=1, high=6),
            integer("d_model", 128, "gpt: width", low=8, high=2048),
            integer("layers", 4, "gpt: transformer blocks", low=1, high=48),
            integer("heads", 4, "gpt: attention heads", low=1, high=64),
            number(
                "epochs",
                1.0,
                "gpt/smollm2: passes over the training set per generation",
                low=0,
                high=100,
                low_open=True,
            ),
            integer("batch_size", 32, "gpt/smollm2: blocks per optimiser step", low=1, high=4096),
            number(
                "lr", 0.0, "gpt/smollm2: learning rate (0: the model's default, 2e-3 gpt, 5e-5 smollm2)", low=0, high=1
            ),
            flag("pretrained", True, "gpt: generation 1 is the shipped starting GPT (false: trained from scratch)"),
            flag(
                "warm_start",
                True,
                "gpt/smollm2: fine-tune the previous generation "
                "(false: restart from the pretrained weights, or from scratch)",
            ),
            number("temperature", 1.0, "sampling temperature (0: greedy, the most probable token)", low=0, high=10),
            number(
                "top_p",
                1.0,
                "nucleus sampling: keep the most likely tokens up to this mass",
                low=0,
                high=1,
                low_open=True,
            ),
            integer("beams", 1, "beam search width (1: sampling)", low=1, high=64),
            number("repetition_penalty", 1.0, "multiplies the log-probability of tokens already used", low=1, high=10),
            integer(
                "prompt_len",
                0,
                "synthetic blocks continue this many tokens of a real block (0: from scratch)",
                low=0,
                high=1024,
            ),
            integer("eval_samples", 64, "texts generated per generation for the variety measures", low=2, high=100_000),
            integer(
                "perplexity_blocks",
                0,
                "real test blocks scored for perplexity_real (0: the whole test split)",
                low=0,
                high=1_000_000,
            ),
            flag("semantic", True, "compute semantic diversity (loads all-MiniLM-L6-v2)"),
            number(
                "watermark_delta",
                0.0,
                "every model watermarks its text: logit bias on green tokens (0: none)",
                low=0,
                high=20,
            ),
            number(
                "watermark_gamma",
                0.25,
                "share of the vocabulary on each green list",
                low=0,
                high=1,
                low_open=True,
                high_open=True,
            ),
            number(
                "watermark_z",
                0.0,
                "web modes: drop scraped texts whose watermark z-score exceeds this (0: keep all)",
                low=0,
                high=100,
            ),
        ],
        columns=COLUMNS,
        profiles={
            "smoke": {"generations": 3, "samples": 500, "replicates": 1, "eval_samples": 24, "perplexity_blocks": 128},
            "default": {"generations": 10, "samples": 1000, "replicates": 2, "eval_samples": 48},
            "full": {
                "model": "smollm2",
                "generations": 10,
                "samples": 10_000,
                "replicates": 1,
                "epochs": 5.0,
                "batch_size": 16,
                "beams": 5,
                "prompt_len": 64,
                "warm_start": False,
                "eval_samples": 256,
            },
        },
        build=build,
        neural=lambda params: params["model"] != "ngram" or params["semantic"],
        figures=figures,
        check=check,
        prepare=prepare,
        memory_bytes=memory_bytes,
    )
)


# Shumailov et al.'s protocol, from their released code (curse_recurse): each generation is
# fine-tuned again from the same pretrained model, each synthetic block is the 64 tokens the
# model writes after a real 64-token block, by 5-way beam search with a repetition penalty of
# 3.0 (their paper's text says 2.0: one setting away).
SHUMAILOV_PROTOCOL = {"model": "gpt", "warm_start": False, "prompt_len": 64, "beams": 5, "repetition_penalty": 3.0}

TEXT_SHUMAILOV = register(
    Experiment(
        name="text-shumailov",
        summary="the text loop under Shumailov et al.'s protocol "
        "(fine-tuned anew each generation, beam search after real prompts)",
        params=[
            dataclasses.replace(p, default=SHUMAILOV_PROTOCOL[p.name]) if p.name in SHUMAILOV_PROTOCOL else p
            for p in TEXT.params
        ],
        columns=COLUMNS,
        profiles={
            "smoke": {"generations": 2, "samples": 100, "replicates": 1, "eval_samples": 16, "perplexity_blocks": 128},
            "default": {"generations": 5, "samples": 500, "replicates": 5, "eval_samples": 48},
            "full": {
                "model": "smollm2",
                "generations": 10,
                "samples": 8000,
                "replicates": 3,
                "epochs": 5.0,
                "batch_size": 16,
                "eval_samples": 256,
            },
        },
        build=build,
        neural=TEXT.neural,
        figures=figures,
        check=check,
        prepare=prepare,
        memory_bytes=memory_bytes,
    )
)
