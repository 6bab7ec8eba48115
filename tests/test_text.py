"""Text chapter: data, n-gram, decoding, small GPT, variety measures and the experiment."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from autophagy.data import text as wiki
from autophagy.engine.step import Step
from autophagy.metrics import text as tm
from autophagy.models.decoding import Decoding, adjust
from autophagy.models.ngram import NGram
from autophagy.params import ParameterError

SENTENCE = "the quick brown fox jumps over one lazy dog today"  # ten distinct words


# -- data --------------------------------------------------------------------------------
def test_split_is_by_article_deterministic_and_disjoint():
    train, test = wiki.split()
    assert len(train) + len(test) == len(wiki.articles())
    assert not set(train) & set(test)
    assert wiki.split() == (train, test)


def test_cleaned_text_has_no_wiki_markup():
    text = "\n".join(t for _, t in wiki.articles())
    for mark in ("'''", "[[", "]]", "{{", "}}", "<ref", "=="):
        assert mark not in text


def test_blocks_round_trip_the_token_stream():
    ids = np.arange(103)
    b = wiki.blocks(ids, 10)
    assert b.shape == (10, 10) and np.array_equal(b.ravel(), ids[:100])


def test_corpus_tokens_decode_back_to_the_text():
    c = wiki.corpus()
    _, test = wiki.split()
    assert c.train.dtype == np.int32 and c.train.max() < c.vocab_size
    assert c.decode(c.encode(test[0][:500])) == test[0][:500]


# -- n-gram ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trigram():
    m = NGram(wiki.corpus().vocab_size, 3)
    m.fit(wiki.corpus().train[:400], Step(np.random.default_rng(0)))
    return m


def test_ngram_next_token_distributions_sum_to_one(trigram):
    c = wiki.corpus()
    for length in (0, 1, 2, 10):
        p = trigram.next_probs(c.test[:20, :10], np.full(20, length))
        assert np.all(p > 0)
        np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-12)


def test_ngram_token_probs_agree_with_next_token_distribution(trigram):
    blocks = wiki.corpus().test[:30, :12]
    p = trigram.next_probs(blocks[:, :11])
    np.testing.assert_allclose(trigram.token_probs(blocks)[:, 11], p[np.arange(30), blocks[:, 11]], rtol=1e-12)


def test_ngram_fast_sampler_matches_the_distribution(trigram):
    """Frequencies of 200k draws lie within 5 binomial standard errors of the probabilities."""
    rng = np.random.default_rng(1)
    c = wiki.corpus()
    n = 200_000
    for length in (0, 1, 10):
        history = np.tile(c.test[3:4, :10], (n, 1))
        p = trigram.next_probs(history[:1], np.array([length]))[0]
        freq = np.bincount(trigram.draw_next(history, np.full(n, length), rng), minlength=len(p)) / n
        assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1 / n)


def test_ngram_counts_and_checkpoint_round_trip(trigram):
    copy = NGram(trigram.vocab, 3)
    copy.load_state_dict(trigram.state_dict())
    blocks = wiki.corpus().test[:5]
    np.testing.assert_array_equal(copy.token_probs(blocks), trigram.token_probs(blocks))
    assert trigram.tables[0]["counts"].sum() == 400 * 64


def test_ngram_probabilities_of_a_repeated_block_match_the_formula_by_hand():
    block = np.array([[1, 2, 3, 4, 5, 6, 7, 8]] * 50)
    m = NGram(10, 3)
    m.fit(block)
    p = m.token_probs(block[:1])[0]
    d = 0.5  # no k-gram seen once or twice: the fallback discount
    unigram = (50 - d + d * 8 / 10) / 400  # 8 types, 400 tokens, uniform over 10 below
    assert p[0] == pytest.approx(unigram)
    bigram = (50 - d + d * 1 * unigram) / 50  # each context has one follower
    assert p[1] == pytest.approx(bigram)
    assert p[2] == pytest.approx((50 - d + d * bigram) / 50)


# -- decoding ----------------------------------------------------------------------------
def test_top_p_keeps_the_smallest_nucleus_and_renormalises():
    logp = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    out = np.exp(adjust(logp, None, Decoding(top_p=0.7)))
    np.testing.assert_allclose(out, [[0.5 / 0.8, 0.3 / 0.8, 0, 0]])


def test_temperature_and_penalty_reshape_as_defined():
    p = np.array([[0.6, 0.3, 0.1]])
    cold = np.exp(adjust(np.log(p), None, Decoding(temperature=0.5)))
    np.testing.assert_allclose(cold, p**2 / (p**2).sum())
    seen = np.array([[True, False, False]])
    pen = np.exp(adjust(np.log(p), seen, Decoding(repetition_penalty=2.0)))
    np.testing.assert_allclose(pen, np.array([[0.36, 0.3, 0.1]]) / 0.76)


@given(arrays(np.float64, (3, 6), elements=st.floats(-20, 0)))
def test_greedy_puts_all_the_mass_on_the_most_probable_tokens(logits):
    out = np.exp(adjust(logits, None, Decoding(temperature=0)))
    best = logits >= logits.max(axis=1, keepdims=True)
    np.testing.assert_allclose(out, best / best.sum(axis=1, keepdims=True))


def test_beam_search_finds_the_most_likely_sequence_of_a_chain():
    """On a 2-token Markov chain where greedy is wrong, 2 beams find the best path."""
    trans = np.log(np.array([[0.1, 0.9], [0.5, 0.5]]))  # from state 0 or 1
    first = np.log(np.array([0.4, 0.6]))

    class Chain:
        def start(self, prompts):
            self.last = np.full(len(prompts), -1)
            return np.tile(first, (len(prompts), 1))

        def advance(self, tokens, keep):
            self.last = tokens
            return trans[tokens]

    from autophagy.models.decoding import generate

    out = generate(Chain(), np.zeros((1, 1), int), 2, 2, Decoding(beams=2), np.random.default_rng(0))
    assert out.tolist() == [[0, 1]]  # 0.4 * 0.9 = 0.36 beats greedy 1 -> 0.6 * 0.5 = 0.3
    greedy = generate(Chain(), np.zeros((50, 1), int), 1, 2, Decoding(temperature=0), np.random.default_rng(0))
    assert (greedy == 1).all()  # greedy takes the locally best first token every time


def test_a_logit_processor_sees_each_rows_tokens_so_far_and_reshapes_the_draw():
    """The processor gets each row's prompt and the tokens drawn before: one that changes
    nothing leaves the draws as they were, one that forbids a token keeps it out."""
    from autophagy.models.decoding import generate

    class Uniform:
        def start(self, prompts):
            return np.full((len(prompts), 5), -np.log(5))

        def advance(self, tokens, keep):
            return np.full((len(tokens), 5), -np.log(5))

    contexts = []

    def watch(logprobs, context):
        contexts.append(context.copy())
        return logprobs

    prompts = np.array([[1, 2], [3, 4], [0, 0]])
    plain = generate(Uniform(), prompts, 4, 5, Decoding(), np.random.default_rng(0))
    watched = generate(Uniform(), prompts, 4, 5, Decoding(processor=watch), np.random.default_rng(0))
    np.testing.assert_array_equal(watched, plain)
    assert [c.tolist() for c in contexts] == [np.c_[prompts, plain[:, :i]].tolist() for i in range(4)]

    def forbid_zero(logprobs, context):
        return np.where(np.arange(5) == 0, -np.inf, logprobs - np.log(0.8))

    out = generate(Uniform(), np.zeros((50, 0), int), 4, 5, Decoding(processor=forbid_zero), np.random.default_rng(0))
    assert out.shape == (50, 4) and (out != 0).all()
    with pytest.raises(ParameterError, match="beams=1"):
        Decoding(beams=2, processor=watch)


# -- small GPT ---------------------------------------------------------------------------
def _small_gpt(vocab: int):
    """A GPT over ``vocab`` tokens for blocks of 16, trained 8 epochs in batches of 16."""
    from autophagy.models.transformer import GPT, GPTArchitecture, GPTTraining

    architecture = GPTArchitecture(vocab_size=vocab, context=17, d_model=32, layers=2, heads=2)
    return GPT(architecture, GPTTraining(epochs=8, batch_size=16), block_len=16)


@pytest.fixture(scope="module")
def gpt():
    m = _small_gpt(wiki.corpus().vocab_size)
    m.fit(wiki.corpus().train[:64, :16], Step(np.random.default_rng(0)))
    return m


@pytest.mark.parametrize(
    "decoding", [Decoding(), Decoding(temperature=0.8, top_p=0.9, repetition_penalty=1.2), Decoding(beams=3)]
)
def test_gpt_kv_cache_generation_equals_generation_without_cache(gpt, decoding):
    prompts = wiki.corpus().test[:4, :5]
    a = gpt.generate(prompts, 12, np.random.default_rng(7), decoding, cache=True)
    b = gpt.generate(prompts, 12, np.random.default_rng(7), decoding, cache=False)
    np.testing.assert_array_equal(a, b)


def test_gpt_same_seed_same_training_and_checkpoint_round_trip(gpt):
    other = _small_gpt(gpt.vocab)
    other.fit(wiki.corpus().train[:64, :16], Step(np.random.default_rng(0)))
    blocks = wiki.corpus().test[:8, :16]
    np.testing.assert_array_equal(other.token_logprobs(blocks), gpt.token_logprobs(blocks))
    restored = _small_gpt(gpt.vocab)
    restored.load_state_dict(gpt.state_dict())
    np.testing.assert_array_equal(restored.token_logprobs(blocks), gpt.token_logprobs(blocks))


def test_gpt_training_lowers_perplexity_of_real_text(gpt):
    untrained = _small_gpt(gpt.vocab)
    untrained.net.init_weights(__import__("torch").Generator().manual_seed(0))
    blocks = wiki.corpus().test[:32, :16]
    assert gpt.perplexity(blocks) < 0.8 * untrained.perplexity(blocks)


# -- variety measures --------------------------------------------------------------------
def test_a_text_repeated_ten_times_has_the_hand_computed_measures():
    texts = [SENTENCE] * 10
    assert tm.distinct_n(texts, 1) == pytest.approx(10 / 100)
    assert tm.distinct_n(texts, 2) == pytest.approx(9 / 90)
    assert tm.distinct_n(texts, 3) == pytest.approx(8 / 80)
    assert tm.self_bleu(texts) == pytest.approx(1.0)
    assert tm.duplicate_share(texts) == pytest.approx(0.9)
    assert tm.repetition(texts) == 0


def test_texts_with_no_shared_words_have_zero_self_bleu_and_full_distinctness():
    texts = [" ".join(f"w{i}x{j}" for j in range(8)) for i in range(5)]
    assert tm.distinct_n(texts, 2) == 1.0
    assert tm.self_bleu(texts) == 0.0  # no word in common: BLEU is 0 whatever the smoothing


def test_repetition_counts_repeated_4grams_inside_a_text():
    # "a b c d" four times: 13 4-grams, of which 4 distinct
    assert tm.repetition([" ".join("abcd" * 4)]) == pytest.approx(1 - 4 / 13)


def test_rank_frequency_is_sorted_word_counts():
    assert tm.rank_frequency(["a a a b b c", "a"]).tolist() == [4, 2, 1]


def test_semantic_diversity_is_zero_for_copies_and_larger_for_different_topics():
    assert tm.semantic_diversity([SENTENCE] * 4) == pytest.approx(0.0, abs=1e-6)
    varied = [
        "The cat sat on the mat.",
        "Interest rates rose sharply in March.",
        "Photosynthesis turns light into chemical energy.",
        "The match ended in a draw.",
    ]
    assert tm.semantic_diversity(varied) > 0.5


def test_the_embedder_loads_without_a_progress_bar_and_leaves_the_bars_as_they_were(capfd):
    from transformers.utils import logging

    tm.embedder.cache_clear()
    tm.embedder()
    assert "Loading weights" not in capfd.readouterr().err
    assert logging.is_progress_bar_enabled()


# -- experiment --------------------------------------------------------------------------
def test_text_experiment_runs_writes_samples_and_resumes_identically(tmp_path):
    import autophagy
    from autophagy.experiments.text import load_samples

    settings = dict(profile="smoke", progress=False, generations=2, samples=200, eval_samples=8, semantic=False)
    first = autophagy.run("text", out=tmp_path / "a", **settings)
    columns = {
        "generation",
        "replicate",
        "perplexity_real",
        "distinct_1",
        "distinct_2",
        "distinct_3",
        "self_bleu",
        "semantic_diversity",
        "duplication",
    }
    assert columns <= set(first.frame.columns)
    saved = load_samples(tmp_path / "a")
    assert set(saved) == {(0, 0), (1, 0), (2, 0)} and len(saved[1, 0]["samples"]) == 8
    again = autophagy.run("text", out=tmp_path / "a", **settings)  # finished run: resumes
    assert first.frame.equals(again.frame)
    fresh = autophagy.run("text", **settings)
    np.testing.assert_allclose(fresh.frame["perplexity_real"], first.frame["perplexity_real"])


@pytest.mark.parametrize("block_len", [16, 64])
def test_gpt_runs_through_the_loop_and_reads_real_text_better_than_a_uniform_model(block_len):
    """model=gpt end to end (tiny sizes): fit, write, refit on its own text, measure; short
    blocks leave the shown continuation fewer positions than it would take."""
    import autophagy

    history = autophagy.run(
        "text",
        profile="smoke",
        progress=False,
        model="gpt",
        mode="fresh",
        real_fraction=0.5,
        generations=2,
        samples=32,
        eval_samples=4,
        replicates=1,
        semantic=False,
        pretrained=False,
        d_model=32,
        layers=1,
        heads=2,
        epochs=4,
        batch_size=16,
        block_len=block_len,
    )
    frame = history.frame
    assert history.params["model"] == "gpt"
    assert frame["generation"].tolist() == [0, 1, 2]
    ppl = frame.loc[frame["generation"] > 0, "perplexity_real"].to_numpy()
    uniform = wiki.corpus().vocab_size  # a uniform model's perplexity
    assert np.all(np.isfinite(ppl)) and np.all(ppl < uniform)
    assert np.all((frame["distinct_2"] > 0) & (frame["distinct_2"] <= 1))


def test_the_pretrained_gpt_loop_starts_from_the_shipped_model_and_fine_tunes_it():
    import autophagy
    from autophagy import weights

    history = autophagy.run(
        "text",
        profile="smoke",
        progress=False,
        model="gpt",
        generations=2,
        samples=64,
        eval_samples=4,
        replicates=1,
        semantic=False,
    )
    shipped = weights.load("wiki-gpt")
    from autophagy.experiments.text import load_corpus, model_factory, scored_blocks

    params = history.params
    model = model_factory(params, load_corpus(params))()
    model.fit(load_corpus(params).train[:8], Step(np.random.default_rng(0)))  # generation 1: no training
    assert all(np.array_equal(v.cpu().numpy(), shipped[k]) for k, v in model.net.state_dict().items())
    ppl = history.frame.set_index("generation")["perplexity_real"]
    scored = scored_blocks(load_corpus(params).test, params["perplexity_blocks"])
    assert np.isclose(ppl[1], model.perplexity(scored)) and ppl[2] != ppl[1]


def test_shumailov_protocol_texts_are_scored_by_the_generation_one_model_and_by_their_own(tmp_path):
    import autophagy
    from autophagy.experiments.text import SHUMAILOV_PROTOCOL, load_samples

    history = autophagy.run(
        "text-shumailov",
        out=tmp_path,
        profile="smoke",
        progress=False,
        generations=2,
        samples=24,
        eval_samples=6,
        semantic=False,
    )
    params = history.params
    assert {k: params[k] for k in SHUMAILOV_PROTOCOL} == SHUMAILOV_PROTOCOL
    frame = history.frame.set_index("generation")
    # generation 1 is the shipped model, which is also the reference: its texts score the same under both
    assert np.isclose(frame.at[1, "perplexity_self"], frame.at[1, "perplexity_gen1"])
    assert np.isnan(frame.at[0, "perplexity_self"])
    saved = load_samples(tmp_path)
    for g in (1, 2):
        per_text = np.array(saved[g, 0]["perplexity_self"])
        assert len(per_text) == 6 and np.isclose(np.exp(np.log(per_text).mean()), frame.at[g, "perplexity_self"])


def test_a_gpt_too_short_for_the_prompt_and_block_is_refused():
    import autophagy

    with pytest.raises(ParameterError, match="positions"):
        autophagy.run("text", profile="smoke", model="gpt", prompt_len=100, block_len=64)


@pytest.mark.parametrize(
    "override, message",
    [({"beams": 4}, "prompt_len"), ({"model": "lstm"}, "model"), ({"temperature": 0}, "temperature")],
)
def test_bad_text_parameters_raise_one_line_before_work(tmp_path, override, message):
    import autophagy

    with pytest.raises(ParameterError, match=message):
        autophagy.run("text", out=tmp_path / "x", profile="smoke", **override)
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_smollm2_loads_offline_and_reads_wikipedia_far_better_than_uniform():
    """Loading SmolLM2-135M takes ~30 s and 1.2 GB on CPU: the one test that does it."""
    from autophagy.models import smollm2

    model = smollm2.SmolLM2(progress=False)
    corpus = smollm2.corpus(64)
    ppl = model.perplexity(corpus.test[:8])
    assert np.isfinite(ppl) and ppl < model.vocab / 100
    out = model.generate(corpus.test[:2, :8], 6, np.random.default_rng(0), Decoding(beams=2))
    assert out.shape == (2, 6)


@given(n=st.integers(1, 700), count=st.integers(0, 800))
def test_scored_blocks_are_all_or_distinct_evenly_spaced_from_first_to_last(n, count):
    from autophagy.experiments.text import scored_blocks

    test = np.arange(n)[:, None] * np.ones((1, 3), dtype=int)
    rows = scored_blocks(test, count)[:, 0]
    if count == 0 or count >= n:
        assert np.array_equal(rows, np.arange(n))
        return
    assert len(rows) == count == len(set(rows.tolist()))
    assert rows[0] == 0 and (count == 1 or rows[-1] == n - 1)
    gaps = np.diff(rows)
    assert count < 2 or gaps.max() - gaps.min() <= 1


def test_split_ids_are_encoded_once_and_read_back_unchanged(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path))
    monkeypatch.setattr(wiki, "split", lambda: (["ab", "cd"], ["ef"]))
    calls = []

    def encode(text: str) -> list[int]:
        calls.append(text)
        return [ord(c) for c in text]

    first = wiki.split_ids(300, encode)
    again = wiki.split_ids(300, encode)
    assert calls == ["ab\ncd", "ef"]  # the second call read the cache
    for ids in (first, again):
        assert ids["train"].tolist() == [ord(c) for c in "ab\ncd"] and ids["test"].tolist() == [ord(c) for c in "ef"]
        assert ids["train"].dtype == np.int32
