"""Word-frequency bands of the real training text (autophagy.metrics.vocabulary): properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autophagy.book.claims import TOLERANCE
from autophagy.data import text as wiki
from autophagy.metrics import vocabulary as voc

INVENTED = ["zqxv", "blorptastic", "qwzzkj"]  # letter strings no English text holds


@pytest.fixture(scope="module")
def real():
    """(the bands of the training split, the training texts, the test texts)."""
    train, test = wiki.split()
    return voc.bands(train), train, test


def band_words(bands, k):
    return bands.vocabulary[bands.band == k]


def text_of(bands, picks) -> str:
    """A text of training words, the ``picks``-th of the vocabulary (modulo its size)."""
    return " ".join(bands.vocabulary[np.array(picks, dtype=int) % len(bands.vocabulary)])


def test_words_are_lower_cased_runs_of_ascii_letters():
    assert voc.words("Don't stop-gap 1990s CAFÉ") == ["don", "t", "stop", "gap", "s", "caf"]


@settings(max_examples=40, deadline=None)
@given(picks=st.lists(st.integers(0, 10**6), min_size=1, max_size=60), invented=st.integers(0, 5))
def test_band_shares_sum_to_one(real, picks, invented):
    bands = real[0]
    shares = voc.shares([text_of(bands, picks) + " zqxv" * invented], bands)
    assert shares.shape == (len(bands.keys),) and (shares >= 0).all()
    assert shares.sum() == pytest.approx(1.0)


def test_a_text_of_top_band_words_puts_all_its_mass_in_the_top_band(real):
    bands = real[0]
    text = " ".join(band_words(bands, 0))
    assert {"the", "of", "and"} <= set(band_words(bands, 0))
    assert voc.shares([text, text.upper()], bands).tolist() == [1.0] + [0.0] * (len(bands.keys) - 1)


def test_invented_words_fall_in_the_unseen_band(real):
    bands = real[0]
    assert not set(INVENTED) & set(bands.vocabulary)
    shares = voc.shares([" ".join(INVENTED)], bands)
    assert shares[bands.unseen] == 1.0 and bands.keys[bands.unseen] == voc.UNSEEN
    assert voc.shares(["the zqxv"], bands)[[0, bands.unseen]].tolist() == [0.5, 0.5]


def test_each_band_holds_only_words_rarer_than_the_band_before(real):
    bands = real[0]
    in_corpus = range(bands.unseen)
    assert all(bands.sizes()[k] > 0 for k in in_corpus)
    for k in in_corpus[1:]:
        assert bands.counts[bands.band == k].max() < bands.counts[bands.band == k - 1].min()


def test_bands_follow_their_rank_edges_and_ties_share_a_band():
    # counts: a 4, b 3, c 3, d 2, e 1 -> ranks 1, 2, 2, 4, 5
    bands = voc.bands(["a a a a b b b c c c", "d d e"], edges=(1, 2, 4))
    assert bands.labels == (
        "ranks 1\u20131",
        "ranks 2\u20132",
        "ranks 3\u20134",
        "ranks beyond 4",
        "not in the training text",
    )
    assert dict(zip(bands.vocabulary, bands.band)) == {"a": 0, "b": 1, "c": 1, "d": 2, "e": 3}
    assert bands.corpus_shares() == pytest.approx([4 / 13, 6 / 13, 2 / 13, 1 / 13, 0.0])


@pytest.mark.parametrize("edges", [(1000, 100), (100, 100), (0, 10), ()])
def test_rank_edges_must_be_positive_and_increasing(edges):
    with pytest.raises(ValueError, match="increasing"):
        voc.bands(["a b c"], edges=edges)


def test_the_training_text_has_exactly_the_corpus_shares(real):
    bands, train, _ = real
    assert voc.shares(train, bands) == pytest.approx(bands.corpus_shares(), abs=1e-12)


def binomial_se(share: float, n: int) -> float:
    return float(np.sqrt(share * (1 - share) / n))


def test_held_out_text_gives_the_top_band_its_training_share_within_binomial_error(real):
    bands, _, test = real
    n = sum(len(voc.words(t)) for t in test)
    expected = bands.corpus_shares()[0]
    assert abs(voc.shares(test, bands)[0] - expected) < TOLERANCE * binomial_se(expected, n)


def test_held_out_text_uses_no_training_band_more_than_the_training_text_does(real):
    """The rarer bands are not held to their training share in both directions: a word's band
    is chosen on its training count (held-out text uses training-rare words less, and words
    the training text lacks instead), and the test split's ten articles cluster its words by
    topic far beyond a binomial error; but no band may gain beyond that error."""
    bands, _, test = real
    n = sum(len(voc.words(t)) for t in test)
    expected, held_out = bands.corpus_shares(), voc.shares(test, bands)
    for k in range(bands.unseen):
        assert held_out[k] < expected[k] + TOLERANCE * binomial_se(expected[k], n)
    assert 0 < held_out[bands.unseen] < 0.15


def test_a_band_written_out_twice_survives_whole_and_no_other_does(real):
    bands = real[0]
    text = " ".join(band_words(bands, 1))
    assert voc.surviving([text, text], bands).tolist() == [0.0, 1.0, 0.0, 0.0]


@settings(max_examples=25, deadline=None)
@given(first=st.lists(st.integers(0, 10**6), max_size=40), more=st.lists(st.integers(0, 10**6), max_size=40))
def test_surviving_vocabulary_never_shrinks_as_texts_are_added(real, first, more):
    bands = real[0]
    before = voc.surviving([text_of(bands, first)], bands)
    after = voc.surviving([text_of(bands, first), text_of(bands, more)], bands)
    assert (after >= before).all() and (after <= 1).all()


def test_by_generation_gives_one_row_per_saved_record_with_shares_summing_to_one(real):
    bands = real[0]
    saved = {(g, r): {"samples": ["the history of zqxv", "of the and"]} for g in range(3) for r in range(2)}
    frame = voc.by_generation(saved, bands)
    assert list(zip(frame["generation"], frame["replicate"])) == sorted(saved)
    assert frame[list(bands.keys)].sum(axis=1).to_numpy() == pytest.approx(1.0)
    assert (frame["words"] == 7).all() and (frame[voc.UNSEEN] == 1 / 7).all()
    assert [f"kept_{k}" for k in bands.keys[: bands.unseen]] == [c for c in frame if c.startswith("kept_")]
