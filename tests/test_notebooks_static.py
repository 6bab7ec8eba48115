"""Static checks of the chapters: stored without outputs, one parameters cell, all in the toc."""

import json
import re
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
    code = [
        ("".join(c["source"]), c.get("metadata", {}).get("tags", [])) for c in cells(path) if c["cell_type"] == "code"
    ]
    index = next(i for i, (_, tags) in enumerate(code) if "parameters" in tags)
    assert "check_profile(PROFILE)" in code[index + 1][0]


def test_every_toc_entry_exists():
    for entry in toc_files():
        assert (ROOT / f"{entry}.ipynb").exists() or (ROOT / f"{entry}.md").exists(), entry


DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{(exercise|solution)\}([^\n]*)\n(.*?)^\1[ \t]*$", re.M | re.S)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_solution_directly_follows_its_exercise(path):
    """exercise_style: solution_follow_exercise (_config.yml): nothing but blank lines between
    an exercise and its solution, in the same markdown cell or at the start of the next one."""
    found = []  # (cell index, kind, label, text before it, text after it in its cell)
    for i, cell in enumerate(cells(path)):
        text = "".join(cell["source"])
        if cell["cell_type"] != "markdown":
            continue
        matches = list(DIRECTIVE.finditer(text))
        for k, m in enumerate(matches):
            start = matches[k - 1].end() if k else 0
            end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
            label = (
                m.group(3).strip()
                if m.group(2) == "solution"
                else next(iter(re.findall(r"^:label:\s*(\S+)", m.group(4), re.M)), None)
            )
            found.append((i, m.group(2), label, text[start : m.start()], text[m.end() : end]))
    solutions = [f for f in found if f[1] == "solution"]
    assert solutions
    for n, (cell, _, label, before, _) in enumerate(found):
        if found[n][1] != "solution":
            continue
        assert n > 0, f"solution {label} comes before any exercise"
        prev_cell, kind, prev_label, _, after = found[n - 1]
        assert kind == "exercise" and prev_label == label, (
            f"solution {label} does not follow its exercise (it follows {kind} {prev_label})"
        )
        if cell == prev_cell:
            assert not before.strip(), f"text between exercise {label} and its solution"
        else:
            assert cell == prev_cell + 1 and not after.strip() and not before.strip(), (
                f"solution {label} is not at the start of the cell after its exercise"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_install_cell_is_guarded_and_hides_its_output(path):
    """The first code cell installs the package only on Colab, and its pip output is folded."""
    cell = next(c for c in cells(path) if c["cell_type"] == "code")
    lines = "".join(cell["source"]).splitlines()
    guard = next(
        (i for i, line in enumerate(lines) if re.match(r"\s*if .*google\.colab.* in sys\.modules", line)), None
    )
    assert guard is not None, "the first code cell is not the Colab install cell"
    indent = len(lines[guard]) - len(lines[guard].lstrip())
    installs = [i for i, line in enumerate(lines) if "pip install" in line or "apt-get" in line]
    assert installs
    for i in installs:
        assert i > guard and len(lines[i]) - len(lines[i].lstrip()) > indent, f"unguarded: {lines[i]!r}"
        # and no line back at the guard's level between the guard and this install
        assert all(not line.strip() or len(line) - len(line.lstrip()) > indent for line in lines[guard + 1 : i])
    assert "hide-output" in cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_installs_from_the_configured_repository(path):
    """The repository's address is _config.yml's; tools/set_repository.py writes it everywhere."""
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    cell = "".join(next(c for c in cells(path) if c["cell_type"] == "code")["source"])
    named = re.findall(r"git\+(https://github\.com/[^\s\"@]+)", cell)
    assert named == [url]


def test_readme_names_the_configured_repository():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", readme)) - {"https://github.com/OWNER/REPO"}
    assert named == {url}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_shown_inline_has_alt_text(path):
    """A figure drawn with plt.show() (not glued into a captioned figure) needs its words in
    the cell's mystnb image metadata, or the page shows an image that describes nothing."""
    for cell in cells(path):
        if cell["cell_type"] == "code" and "plt.show()" in "".join(cell["source"]):
            alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")
            assert len(alt.split()) >= 5, "".join(cell["source"])[:80]


# what makes a figure that the book's layout helpers did not lay out, or text under 9 pt
UNLAID_FIGURE = re.compile(r"plt\.(subplots|figure|subplot_mosaic)\(|figsize\s*=|tight_layout\(")
SMALL_TEXT = re.compile(r"fontsize\s*=\s*(\"(x{0,2}-?small)\"|'(x{0,2}-?small)'|[0-8](\.\d+)?\b)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_are_laid_out_by_the_book_helpers_with_text_of_at_least_9_points(path):
    """A chapter's figure is column-wide as drawn (plotting.figure or plotting.panels, nothing
    resizes it afterwards) and sets no text smaller than the theme's 9 pt."""
    for cell in cells(path):
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            assert not UNLAID_FIGURE.search(source), UNLAID_FIGURE.search(source).group(0)
            assert not SMALL_TEXT.search(source), SMALL_TEXT.search(source).group(0)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_chapter_imports_a_private_name(path):
    """Chapters use the package's public names only (a leading underscore marks an internal one)."""
    import ast

    for cell in cells(path):
        if cell["cell_type"] != "code":
            continue
        # IPython magics (the Colab cell's %pip) become a no-op statement so the cell parses
        source = "\n".join(
            line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
            for line in "".join(cell["source"]).splitlines()
        )
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom):
                assert not any(p.startswith("_") for p in (node.module or "").split(".")), node.module
                assert not any(a.name.startswith("_") for a in node.names), [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                assert not any(p.startswith("_") for a in node.names for p in a.name.split(".")), node.names
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert not (node.attr.startswith("_") and not node.attr.startswith("__")), node.attr


VERDICT_CELL_LINES = 40  # a visible cell longer than this that checks claims: split it, or check them in autophagy.book


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_verdicts_are_computed_by_package_functions_not_long_visible_cells(path):
    for cell in cells(path):
        text = "".join(cell["source"])
        visible = "hide-input" not in cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] == "code" and visible and "claims.check" in text:
            assert len(text.splitlines()) <= VERDICT_CELL_LINES, text.splitlines()[0]
