"""The student edition (make student) has every exercise of the full site and no solution, and
its launch buttons open the solution-free notebooks of student/book/, which are exactly what
tools/student_notebooks.py makes of the chapters."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "_build" / "html"
STUDENT = ROOT / "_build" / "student" / "html"
# a {solution} directive of the book's sources (backtick or colon fence) and its body
SOLUTION = re.compile(r"^(`{3,}|:{3,})\{solution\}[^\n]*\n(.*?)^\1[ \t]*$", re.M | re.S)


def pages(site: Path) -> dict[str, str]:
    from bs4 import BeautifulSoup

    out = {}
    for path in site.rglob("*.html"):
        if "_static" not in path.parts:
            out[str(path.relative_to(site))] = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return out


@pytest.mark.slow
def test_student_edition_has_the_exercises_and_no_solution_text():
    if not (STUDENT / "index.html").exists() or not (FULL / "index.html").exists():
        pytest.fail("build both editions first: `make site student`")
    full, student = pages(FULL), pages(STUDENT)
    solutions = 0
    for rel, soup in full.items():
        exercises = len(soup.select("div.exercise"))
        assert rel in student, f"{rel} missing from the student edition"
        assert len(student[rel].select("div.exercise")) == exercises, rel
        assert not student[rel].select("div.solution"), f"{rel}: solution block in the student edition"
        text = " ".join(student[rel].get_text(" ").split())
        for block in soup.select("div.solution"):
            solutions += 1
            body = block.select_one(".solution-content, section") or block
            sentence = " ".join(body.get_text(" ").split())[:60]
            assert sentence and sentence not in text, f"{rel}: solution text in the student edition: {sentence!r}"
    assert solutions > 0, "the full edition has no solutions to hide"


def sources() -> dict[str, str]:
    """The text of every page of the book (notebooks: all their cells), by path."""
    out = {}
    for path in sorted((ROOT / "book").rglob("*")):
        if path.suffix == ".ipynb":
            out[str(path)] = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        elif path.suffix == ".md":
            out[str(path)] = path.read_text(encoding="utf-8")
    return out


def solution_phrases() -> set[str]:
    """Runs of at least four plain words from the solutions' sources, found nowhere else in
    the book: the same characters in a rendered page, a copied source, a .txt or a .js file."""
    texts = sources().values()
    bodies = [m.group(2) for text in texts for m in SOLUTION.finditer(text)]
    # the rest of the book, the package's docstrings (API page) and help texts (CLI page) included
    code = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "src").rglob("*.py"))]
    rest = " ".join(" ".join(SOLUTION.sub(" ", text).split()) for text in [*texts, *code])
    found = set()
    for body in bodies:
        for line in body.splitlines():
            if re.match(r"\s*:[\w-]+:", line):  # a directive option
                continue
            for run in re.findall(r"[A-Za-z]+(?: [A-Za-z]+){3,}", line):
                if len(run) >= 20 and run not in rest:
                    found.add(run)
    return found


@pytest.mark.slow
def test_no_file_of_the_student_edition_holds_solution_text():
    if not (STUDENT / "index.html").exists():
        pytest.fail("build the student edition first: `make student`")
    phrases = solution_phrases()
    assert phrases, "no solution text found in the book's sources to look for"
    leaks = []
    for path in sorted(STUDENT.rglob("*")):
        data = path.read_bytes() if path.is_file() else b"\0"
        if b"\0" in data:  # a folder or a binary file (image, font)
            continue
        text = data.decode("utf-8", errors="ignore")
        leaks += [f"{path.relative_to(STUDENT)}: {p!r}" for p in sorted(phrases) if p in text]
    assert not leaks, "solution text in the student edition:\n" + "\n".join(leaks[:20])


def stems(text: str) -> set[str]:
    """The search terms Sphinx's English index makes of a text (sphinx.search.IndexBuilder)."""
    from sphinx.search.en import SearchEnglish

    lang = SearchEnglish({})
    out = set()
    for word in lang.split(text):
        stem = lang.stem(word).lower()
        if lang.word_filter(stem):
            out.add(stem)
        elif lang.word_filter(word):
            out.add(word)
    return out


def search_terms(site: Path) -> dict[str, set[str]]:
    """docname -> the terms (body and title) the site's searchindex.js lists for it."""
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    data = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    out: dict[str, set[str]] = {name: set() for name in data["docnames"]}
    for key in ("terms", "titleterms"):
        for term, docs in data[key].items():
            for doc in docs if isinstance(docs, list) else [docs]:
                out[data["docnames"][doc]].add(term)
    return out


@pytest.mark.slow
def test_student_search_index_has_no_term_found_only_in_solutions():
    if not (STUDENT / "searchindex.js").exists() or not (FULL / "index.html").exists():
        pytest.fail("build both editions first: `make site student`")
    indexed = search_terms(STUDENT)
    checked = 0
    for rel, soup in pages(FULL).items():
        blocks = soup.select("div.solution")
        if not blocks:
            continue
        solution = stems(" ".join(b.get_text(" ") for b in blocks))
        for block in blocks:
            block.decompose()
        only = {t for t in solution - stems(soup.get_text(" ")) if t.isalpha() and len(t) >= 4}
        docname = rel.removesuffix(".html")
        assert docname in indexed, f"{docname} missing from the student search index"
        leaked = sorted(only & indexed[docname])
        assert not leaked, f"{rel}: the student search index has solution-only terms {leaked}"
        checked += len(only)
    assert checked, "no solution-only terms to look for in the student search index"


def student_tool():
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    import student_notebooks

    return student_notebooks


def test_committed_student_notebooks_are_what_the_tool_makes_of_the_chapters():
    tool = student_tool()
    assert sorted(p.name for p in tool.STUDENT.glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "book").glob("*.ipynb")
    )
    diff = tool.differences()
    assert not diff, (
        "student/book/ is not what tools/student_notebooks.py makes of book/ "
        "(run it and commit the result):\n" + "\n".join(diff)
    )


def test_student_notebooks_keep_every_exercise_and_every_code_cell_and_drop_every_solution():
    for chapter in sorted((ROOT / "book").glob("*.ipynb")):
        full = json.loads(chapter.read_text())["cells"]
        student = json.loads((ROOT / "student" / "book" / chapter.name).read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in student)
        assert "{solution}" not in text and not SOLUTION.search(text), chapter.name
        assert text.count("{exercise}") == sum("".join(c["source"]).count("{exercise}") for c in full)
        assert [c for c in student if c["cell_type"] == "code"] == [c for c in full if c["cell_type"] == "code"]


@pytest.mark.slow
def test_student_launch_buttons_open_solution_free_notebooks_of_the_repository():
    from urllib.parse import urlsplit

    from bs4 import BeautifulSoup

    if not (STUDENT / "index.html").exists():
        pytest.fail("build the student edition first: `make student`")
    chapters = sorted((ROOT / "book").glob("*.ipynb"))
    assert chapters
    for chapter in chapters:
        page = STUDENT / "book" / f"{chapter.stem}.html"
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        links = [a["href"] for a in soup.select(".dropdown-launch-buttons a[href]")]
        for service in ("https://mybinder.org/", "https://colab.research.google.com/"):
            found = [h for h in links if h.startswith(service)]
            assert found, f"{page.name}: no launch button for {service}"
            for href in found:
                # Binder: ...?urlpath=lab/tree/PATH; Colab: .../blob/BRANCH/PATH
                path = (
                    href.split("lab/tree/", 1)[1]
                    if "lab/tree/" in href
                    else urlsplit(href).path.split("/blob/", 1)[1].split("/", 1)[1]
                )
                target = ROOT / path
                assert path == f"student/book/{chapter.name}", f"{page.name}: {href}"
                assert target.exists(), f"{page.name}: {href} opens {path}, not in the repository"
                text = "\n".join("".join(c["source"]) for c in json.loads(target.read_text())["cells"])
                assert not SOLUTION.search(text) and "{solution}" not in text, f"{path} holds solutions"
