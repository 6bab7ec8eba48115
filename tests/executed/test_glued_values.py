"""Every number an executed chapter glues into its prose is finite (a NaN is printed on the page).

Reads the executed book in _build/executed/book (tools/execute_notebooks.py; `make test` runs
it at `smoke` right after executing them, as `make executed`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXECUTED = sorted((ROOT / "_build" / "executed" / "book").glob("*.ipynb"))


def glued(path: Path) -> dict[str, str]:
    """name -> the text/plain form of each value the notebook glued (myst-nb's scrapbook)."""
    out = {}
    for cell in json.loads(path.read_text())["cells"]:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = [v for k, v in output.get("data", {}).items() if k.endswith("text/plain")]
            if name and text:
                out[name] = "".join(text[0]).strip()
    return out


def non_finite(text: str) -> bool:
    """True when a glued value's text is a number that is NaN or infinite."""
    try:
        value = float(text.strip("'\""))
    except ValueError:
        return "nan" in text.lower().split() or text.lower() in ("nan", "inf", "-inf")
    return not math.isfinite(value)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "'nan'", "NaN"])
def test_non_finite_spots_nan_and_infinity(text):
    assert non_finite(text)


@pytest.mark.parametrize("text", ["0.438", "3", "'replace'", "1e-300", "'shrinks'"])
def test_non_finite_passes_numbers_and_words(text):
    assert not non_finite(text)


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: p.name)
def test_no_glued_value_is_nan_or_infinite(path):
    values = glued(path)
    bad = {name: text for name, text in values.items() if non_finite(text)}
    assert not bad, f"{path.name} glues non-finite values: {bad}"
