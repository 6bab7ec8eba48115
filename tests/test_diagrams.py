"""The intro's loop diagram: one panel per loop mode, each showing what the loop really trains on."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from autophagy.book.diagrams import compositions, loop_diagram
from autophagy.engine.modes import MODES

G, N = 4, 1000


@pytest.fixture(scope="module")
def figure():
    fig = loop_diagram(generations=G, samples=N)
    yield fig
    plt.close(fig)


def mode_panels(fig):
    return {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_title(loc="left") in MODES}


def test_one_panel_per_mode_titled_with_its_name(figure):
    titles = [ax.get_title(loc="left") for ax in figure.axes]
    assert sorted(t for t in titles if t in MODES) == sorted(MODES)
    assert all(titles.count(mode) == 1 for mode in MODES)


@pytest.mark.parametrize("mode", list(MODES))
def test_each_panel_states_the_modes_description(figure, mode):
    texts = [" ".join(t.get_text().split()) for t in mode_panels(figure)[mode].texts]
    assert " ".join(MODES[mode].description.split()) in texts


@pytest.mark.parametrize("mode", list(MODES))
def test_panel_bars_are_the_training_set_sizes_the_loop_builds(figure, mode):
    ax = mode_panels(figure)[mode]
    rows = {}
    for bar in ax.patches:
        y = round(bar.get_y() + bar.get_height() / 2)
        rows[y] = rows.get(y, 0.0) + bar.get_width()
    sizes = compositions(mode, G, N).sum(axis=1) / N
    assert sorted(rows) == list(range(1, G + 1))
    assert np.allclose([rows[t] for t in range(1, G + 1)], sizes)


@pytest.mark.parametrize("mode", list(MODES))
def test_no_training_set_holds_samples_of_a_later_model(mode):
    counts = compositions(mode, G, N)
    assert counts.shape == (G, G)
    assert counts[0, 0] == N and counts[0, 1:].sum() == 0  # generation 1 sees real data only
    assert not np.triu(counts, k=1).any()  # generation t sees only origins 0 .. t - 1


def test_compositions_follow_each_known_modes_rule():
    f, r = 0.2, 0.5
    rows = range(1, G)  # training sets of generations 2 .. G
    replace = compositions("replace", G, N)
    assert all(replace[t, t] == N and replace[t].sum() == N for t in rows)
    augment = compositions("augment", G, N, synthetic_ratio=r)
    assert all(augment[t, 0] == N and augment[t, t] == r * N and augment[t].sum() == N + r * N for t in rows)
    fresh = compositions("fresh", G, N, real_fraction=f)
    assert all(fresh[t, 0] == f * N and fresh[t, t] == N - f * N for t in rows)
    accumulate = compositions("accumulate", G, N)
    assert all((accumulate[t, : t + 1] == N).all() for t in rows)


def test_accumulate_subsample_draws_evenly_from_everything_so_far():
    counts = compositions("accumulate-subsample", G, N, seed=3)
    for t in range(1, G):
        pool = (t + 1) * N
        p = 1 / (t + 1)
        # each origin's count is hypergeometric: N draws from a pool holding N of it
        sd = np.sqrt(N * p * (1 - p) * (pool - N) / (pool - 1))
        assert counts[t].sum() == N
        assert np.all(np.abs(counts[t, : t + 1] - N * p) < 5 * sd)


def test_the_diagram_is_column_wide_with_text_of_at_least_9_points(figure):
    from matplotlib.text import Text

    from autophagy import plotting

    figure.canvas.draw()
    assert figure.get_size_inches()[0] <= plotting.WIDTH + 1e-9
    assert figure.get_tightbbox(figure.canvas.get_renderer()).width <= plotting.WIDTH + 0.02
    sizes = {t.get_text(): t.get_fontsize() for t in figure.findobj(Text) if t.get_text().strip()}
    assert min(sizes.values()) >= plotting.MIN_FONT, min(sizes.items(), key=lambda kv: kv[1])
