"""Widget progress bars stay out of the built site: tools/execute_notebooks.py's tidy() drops
widget views and saved widget state from executed chapters (the pages would otherwise fetch
require.js and the widget manager from CDNs), and the executed chapters hold none."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from execute_notebooks import OUT, WIDGET_VIEW, tidy  # noqa: E402

STATE = "application/vnd.jupyter.widget-state+json"


def test_ipywidgets_is_pinned_for_interactive_progress_bars():
    pins = [
        line.split("==")
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.startswith("ipywidgets==")
    ]
    assert len(pins) == 1 and pins[0][1].strip()


def test_tidy_drops_widget_views_and_state_and_keeps_the_rest(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("run(progress=True)")
    bar = nbformat.v4.new_output(
        "display_data",
        {
            "text/plain": "  0%|          | 0/5 [00:00<?, ?gen/s]",
            WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": "f00"},
        },
    )
    printed = nbformat.v4.new_output("stream", name="stdout", text="done\n")
    figure = nbformat.v4.new_output("display_data", {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
    cell.outputs = [bar, printed, figure]
    nb.cells = [cell]
    nb.metadata["widgets"] = {STATE: {"state": {"f00": {}}, "version_major": 2, "version_minor": 0}}
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    tidy(path)
    out = json.loads(path.read_text())
    assert "widgets" not in out["metadata"]
    assert [o["output_type"] for o in out["cells"][0]["outputs"]] == ["stream", "display_data"]
    assert "image/png" in out["cells"][0]["outputs"][1]["data"]


def executed() -> list[Path]:
    return sorted((OUT / "book").glob("*.ipynb")) if (OUT / "book").exists() else []


@pytest.mark.parametrize("path", executed(), ids=lambda p: p.name)
def test_executed_chapters_hold_no_widget(path):
    text = path.read_text()
    assert WIDGET_VIEW not in text and STATE not in text, f"{path.name} holds widget output"
    assert "widgets" not in json.loads(text).get("metadata", {})
