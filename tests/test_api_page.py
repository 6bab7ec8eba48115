"""The API reference page: every public module listed once, in a group by role, no private one."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import build_site  # noqa: E402


def test_every_public_module_is_in_exactly_one_group():
    listed = [n for _, _, names in build_site.api_groups() for n in names]
    assert sorted(listed) == build_site.public_modules()
    assert len(listed) == len(set(listed))


def test_the_loop_group_starts_with_the_loop_and_lists_its_parts():
    groups = {title: names for title, _, names in build_site.api_groups()}
    assert groups["Running experiments"][0] == "autophagy.runs.runner"
    assert groups["The loop"][:3] == ["autophagy.engine", "autophagy.engine.loop", "autophagy.engine.step"]
    assert {
        "autophagy.engine.modes",
        "autophagy.engine.trainsets",
        "autophagy.runs.store",
        "autophagy.runs.history",
    } <= set(groups["The loop"])


def test_no_private_module_is_listed_and_the_page_links_the_custom_model_example():
    page = build_site.api_modules()
    assert ".. automodule:: autophagy._" not in page and "._" not in page
    assert "{ref}`own-model`" in (ROOT / "book" / "api.md").read_text()
    assert "(own-model)=" in (ROOT / "book" / "02_beyond_the_gaussian.ipynb").read_text()
