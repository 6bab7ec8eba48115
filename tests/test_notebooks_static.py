"""Static checks of the chapters: stored without outputs, one parameters cell, all in the toc."""

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def toc_files():
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    from execute_notebooks import toc_files as files

    return files(yaml.safe_load((ROOT / "_toc.yml").read_text()))


def cells(path):
    return json.loads(path.read_text())["cells"]


def test_there_are_chapters():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    for cell in cells(path):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_parameters_cell_holding_only_literal_assignments(path):
    import ast

    tagged = [c for c in cells(path) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    tree = ast.parse("".join(tagged[0]["source"]))
    for node in tree.body:
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
    names = {n.targets[0].id for n in tree.body}
    assert {"PROFILE", "SEED"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_the_toc(path):
    assert str(path.relative_to(ROOT).with_suffix("")) in toc_files()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_has_objectives_summary_exercises_and_solutions(path):
    text = "".join("".join(c["source"]) for c in cells(path) if c["cell_type"] == "markdown")
    assert "Learning objectives" in text and "## Summary" in text
    assert text.count("{exercise}") >= 3 and text.count("{solution}") == text.count("{exercise}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_profile_is_checked_right_after_the_parameters(path):
    code = [("".join(c["source"]), c.get("metadata", {}).get("tags", [])) for c in cells(path) if c["cell_type"] == "code"]
    index = next(i for i, (_, tags) in enumerate(code) if "parameters" in tags)
    assert "check_profile(PROFILE)" in code[index + 1][0]


def test_every_toc_entry_exists():
    for entry in toc_files():
        assert (ROOT / f"{entry}.ipynb").exists() or (ROOT / f"{entry}.md").exists(), entry
