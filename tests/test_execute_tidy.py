"""tools/execute_notebooks.py's tidy(): what an executed chapter shows of the machinery."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from execute_notebooks import tidy  # noqa: E402


def executed(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('PROFILE = "default"\nSEED = 0', metadata={"tags": ["parameters"]})
    injected = nbformat.v4.new_code_cell(
        '# Parameters\nPROFILE = "smoke"\n', metadata={"tags": ["injected-parameters"]}
    )
    checked = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1)")
    legend = nbformat.v4.new_code_cell("ax.legend()")
    legend.outputs = [
        nbformat.v4.new_output("execute_result", {"text/plain": "<matplotlib.legend.Legend at 0x7f3a>"}),
        nbformat.v4.new_output("execute_result", {"text/plain": "3"}),
    ]
    nb.cells = [params, injected, checked, legend]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    return path


def test_tidy_merges_the_injected_parameters_into_the_parameters_cell(tmp_path):
    path = executed(tmp_path)
    tidy(path)
    cells = json.loads(path.read_text())["cells"]
    assert not any("injected-parameters" in c["metadata"].get("tags", []) for c in cells)
    params = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1 and "".join(params[0]["source"]) == 'PROFILE = "smoke"\nSEED = 0'


def test_tidy_turns_the_check_marker_into_a_tag_and_drops_bare_reprs(tmp_path):
    path = executed(tmp_path)
    tidy(path)
    cells = json.loads(path.read_text())["cells"]
    checked = next(c for c in cells if "print(1)" in "".join(c["source"]))
    assert "NBVAL" not in "".join(checked["source"]) and "nbval-check-output" in checked["metadata"]["tags"]
    legend = next(c for c in cells if "legend" in "".join(c["source"]))
    assert ["".join(o["data"]["text/plain"]) for o in legend["outputs"]] == ["3"]
