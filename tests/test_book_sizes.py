"""The chapters' own sizes: one entry per section and profile, each asked for by a chapter."""

import json
from pathlib import Path

import pytest

from autophagy.book.sizes import SIZES, sections, sizes
from autophagy.params import ParameterError
from autophagy.profiles import PROFILES

ROOT = Path(__file__).resolve().parent.parent


def test_every_section_sets_the_same_sizes_at_every_profile():
    for section, by_profile in SIZES.items():
        assert set(by_profile) == set(PROFILES), section
        assert len({frozenset(v) for v in by_profile.values()}) == 1, section


def test_sizes_grow_or_stay_from_smoke_to_full():
    for section in sections():
        small, medium, large = (sizes(section, p) for p in PROFILES)
        for key in small:
            assert small[key] <= medium[key] <= large[key], (section, key)


def test_sizes_returns_a_copy_and_refuses_unknown_names():
    sizes("mitigations/web", "smoke")["samples"] = -1
    assert sizes("mitigations/web", "smoke")["samples"] == 100
    with pytest.raises(KeyError):
        sizes("no-such-section", "smoke")
    with pytest.raises(ParameterError):
        sizes("mitigations/web", "huge")


def test_every_section_is_asked_for_by_a_chapter_and_no_chapter_keeps_a_profile_table():
    source = "".join(
        "".join(c["source"])
        for nb in sorted((ROOT / "book").glob("*.ipynb"))
        for c in json.loads(nb.read_text())["cells"]
        if c["cell_type"] == "code"
    )
    for section in sections():
        assert f'"{section}"' in source, section
    assert "[PROFILE]" not in source
