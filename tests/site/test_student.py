"""The student edition (make student) has every exercise of the full site and no solution."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "_build" / "html"
STUDENT = ROOT / "_build" / "student" / "html"


def pages(site: Path) -> dict[str, str]:
    from bs4 import BeautifulSoup

    out = {}
    for path in site.rglob("*.html"):
        if "_static" not in path.parts:
            out[str(path.relative_to(site))] = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return out


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
