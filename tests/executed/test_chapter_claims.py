"""Every chapter states its quantitative claims through claim cards (autophagy.book.claims), and no
closed form that a chapter holds the run against fails.

Reads the executed book in _build/executed/book (tools/execute_notebooks.py; `make test` runs
it at `smoke` right after executing them, as `make executed`). A true closed
form is within 4.5 standard errors of its estimate at every profile (claims.TOLERANCE), so a
"does not hold" there is a bug in the chapter (a wrong standard error, a wrong comparison) or
in the simulation, not bad luck. A direction that does not hold is this run's finding, and
the chapter's prose says so through the verdict it glues.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autophagy.book.claims import FAILS, HOLDS, UNCLEAR, collected

ROOT = Path(__file__).resolve().parents[2]
EXECUTED_DIR = ROOT / "_build" / "executed" / "book"
CHAPTERS = ("01_", "02_", "03_", "04_", "05_", "06_")


def executed_chapters(folder: Path = EXECUTED_DIR) -> list[Path]:
    """The executed notebooks of chapters 1-6 in ``folder``."""
    return sorted(p for p in folder.glob("*.ipynb") if p.name.startswith(CHAPTERS))


def records(path: Path) -> list[dict]:
    """The claim records that the executed notebook ``path`` shows as cards."""
    return collected(json.loads(path.read_text())["cells"])


def failed_closed_forms(cards: list[dict]) -> list[dict]:
    """The cards that hold the run against a closed form (target) and find it does not hold."""
    return [r for r in cards if r.get("target") is not None and r["verdict"] == FAILS]


EXECUTED = executed_chapters()


def card(verdict: str, target=None, below=None) -> dict:
    return {"name": "c", "verdict": verdict, "target": target, "below": below}


def test_failed_closed_forms_picks_only_targets_that_do_not_hold():
    cards = [card(FAILS, target=1.0), card(HOLDS, target=1.0), card(UNCLEAR, target=1.0), card(FAILS, below=0.0)]
    assert failed_closed_forms(cards) == [cards[0]]


def test_records_reads_the_cards_a_notebook_stores(tmp_path):
    cell = {
        "cell_type": "code",
        "outputs": [
            {"output_type": "display_data", "data": {}, "metadata": {"autophagy/claim": card(HOLDS, target=0.5)}},
            {"output_type": "stream", "text": "no card"},
        ],
    }
    path = tmp_path / "01_x.ipynb"
    path.write_text(json.dumps({"cells": [cell, {"cell_type": "markdown", "source": ""}]}))
    assert records(path) == [card(HOLDS, target=0.5)]
    assert executed_chapters(tmp_path) == [path]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_shows_at_least_one_claim_card(chapter):
    path = next((p for p in EXECUTED if p.name.startswith(chapter)), None)
    assert path is not None, f"chapter {chapter} is not executed in {EXECUTED_DIR}: run `make notebooks`"
    assert records(path), f"{path.name} shows no claim card"


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: p.name)
def test_no_closed_form_claim_does_not_hold(path):
    bad = {
        r["name"]: f"{r['value']} against {r['target']} (se {r['se']}, n {r['n']})"
        for r in failed_closed_forms(records(path))
    }
    assert not bad, f"{path.name}: closed forms that do not hold: {bad}"


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: p.name)
def test_claim_names_are_unique_within_a_chapter(path):
    names = [r["name"] for r in records(path)]
    assert len(names) == len(set(names)), f"{path.name} repeats claim names (their glued values collide)"


@pytest.mark.parametrize("path", [p for p in EXECUTED if p.name.startswith(("03_", "04_"))], ids=lambda p: p.name)
def test_neural_loop_cards_name_their_evidence(path):
    """Chapters 3 and 4 decide their loop claims on recorded replicates: every card says whether
    it reads this run or a recorded run (tests/test_recorded.py checks those runs' replicates)."""
    for r in records(path):
        assert r["evidence"] == "this run" or r["evidence"].startswith("recorded: "), r["name"]
