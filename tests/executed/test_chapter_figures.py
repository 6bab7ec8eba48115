"""Every figure an executed chapter shows is shown at its natural size, no wider than the
content column: a retina PNG (twice the pixels of its displayed width) drawn column-wide by the
code the reader sees, so its text shows at the point size it was set in.

Reads the executed book in _build/executed/book (tools/execute_notebooks.py; `make test` runs
it at `smoke`, as `make executed`).
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
EXECUTED = sorted((ROOT / "_build" / "executed" / "book").glob("*.ipynb"))
# the book's content column at a 1280 px window (sphinx-book-theme 1.3; tests/site measures it);
# figures are drawn plotting.WIDTH wide, and their tick labels or legend may reach a little past
COLUMN_CSS_PX = 750


def shown_pngs(path: Path):
    """(cell number, PNG pixel width, displayed width) of every PNG the chapter shows or glues."""
    for number, cell in enumerate(json.loads(path.read_text())["cells"]):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            png = next((v for k, v in data.items() if k.endswith("image/png")), None)  # shown, or glued
            if png is None:
                continue
            pixels = Image.open(io.BytesIO(base64.b64decode("".join(png)))).size[0]
            yield number, pixels, output.get("metadata", {}).get("image/png", {}).get("width")


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: p.name)
def test_every_figure_is_a_retina_png_no_wider_than_the_column(path):
    pngs = list(shown_pngs(path))
    assert pngs, "no figure"
    for number, pixels, shown in pngs:
        assert shown is not None, f"cell {number}: a PNG without a displayed width (not retina)"
        assert abs(2 * shown - pixels) <= 2, f"cell {number}: {pixels} px shown at {shown} px"
        assert shown <= COLUMN_CSS_PX + 1, f"cell {number}: shown {shown} px wide, the column is {COLUMN_CSS_PX:.0f}"
