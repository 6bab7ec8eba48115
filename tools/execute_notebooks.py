"""Execute every chapter of the book with papermill, the profile injected, into _build/executed.

The executed copy is a complete book source (config, toc, bibliography, pages), rendered
afterwards with execution off (tools/build_site.py). Run times go to timings.json.
``--only NAME`` re-executes the matching chapters and keeps the other executed ones, so the
site still builds. Each executed chapter is tidied for the page (:func:`tidy`): the values
papermill injected replace those of the ``parameters`` cell (one cell, no duplicate), the
``# NBVAL_CHECK_OUTPUT`` comment becomes nbval's equivalent cell tag, and bare object reprs
such as ``<matplotlib.legend.Legend at 0x...>`` are dropped.

Widgets: the kernel runs as a reader's does, ipywidgets installed, so tqdm draws its progress
bars as widgets. A widget is live state in a running kernel, and a static page cannot show it:
myst-nb would render it by loading require.js and the widget manager from CDNs, and the site
must work offline. So :func:`tidy` drops every output that holds a widget view
(``application/vnd.jupyter.widget-view+json``, text fallback included) and the notebook's
saved widget state (metadata ``widgets``). Stripping what the page cannot use keeps one kernel
for the reader and the build, rather than forcing text bars on the build's kernel only.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import papermill
import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "executed"
TIMINGS = ROOT / "_build" / "timings"


def toc_files(toc: dict) -> list[str]:
    """Every file named in a Jupyter Book _toc.yml, in order."""
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def copy_sources(keep_executed: bool = False) -> list[Path]:
    """Copy the book's sources to OUT; return the notebooks to execute. With
    ``keep_executed`` the chapters executed earlier stay (the rest is refreshed)."""
    if OUT.exists() and not keep_executed:
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy(ROOT / name, OUT / name)
    shutil.copytree(
        ROOT / "book", OUT / "book", dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints")
    )
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [ROOT / f"{f}.ipynb" for f in toc_files(toc) if (ROOT / f"{f}.ipynb").exists()]


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CHECK_MARKER = re.compile(r"^[ \t]*#[ \t]*NBVAL_CHECK_OUTPUT[ \t]*\n?", re.M)
BARE_REPR = re.compile(r"^<[\w.]+ at 0x[0-9a-f]+>$")


def tidy(path: Path) -> None:
    """Make an executed chapter read as the reader's run (see the module's docstring)."""
    nb = json.loads(path.read_text())
    nb.get("metadata", {}).pop("widgets", None)  # saved widget state: see the module docstring
    cells = nb["cells"]
    injected = next((c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])), None)
    if injected is not None:
        values = {
            n.targets[0].id: ast.get_source_segment("".join(injected["source"]), n.value)
            for n in ast.parse("".join(injected["source"])).body
            if isinstance(n, ast.Assign)
        }
        params = next(c for c in cells if "parameters" in c["metadata"].get("tags", []))
        lines = "".join(params["source"]).splitlines()
        for i, line in enumerate(lines):
            name = line.split("=", 1)[0].strip()
            if "=" in line and name in values:
                lines[i] = f"{name} = {values[name]}"
        params["source"] = "\n".join(lines)
        cells.remove(injected)
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if CHECK_MARKER.search(source):
            cell["source"] = CHECK_MARKER.sub("", source)
            tags = cell["metadata"].setdefault("tags", [])
            tags.append("nbval-check-output")
        cell["outputs"] = [
            o
            for o in cell["outputs"]
            if WIDGET_VIEW not in o.get("data", {})
            and not (
                o.get("output_type") == "execute_result"
                and set(o.get("data", {})) == {"text/plain"}
                and BARE_REPR.match("".join(o["data"]["text/plain"]).strip())
            )
        ]
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="default", choices=["smoke", "default", "full"])
    parser.add_argument("--only", help="execute only notebooks whose name contains this")
    args = parser.parse_args()
    notebooks = all_notebooks = copy_sources(keep_executed=bool(args.only))
    if args.only:
        notebooks = [nb for nb in notebooks if args.only in nb.name]
        if not notebooks:
            print(f"no chapter's name contains {args.only!r}", file=sys.stderr)
            return 2
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    timings, failed = {}, []
    for nb in notebooks:
        target = OUT / nb.relative_to(ROOT)
        start = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(nb),
                str(target),
                parameters={"PROFILE": args.profile},
                kernel_name="python3",
                cwd=str(nb.parent),
                progress_bar=False,
            )
        except papermill.PapermillExecutionError as err:
            failed.append(nb.name)
            print(f"FAILED {nb.name}: {err.ename}: {err.evalue}", file=sys.stderr)
        else:
            tidy(target)
        timings[nb.stem] = round(time.perf_counter() - start, 1)
        print(f"{nb.name}: {timings[nb.stem]:.1f} s ({args.profile})", flush=True)
    current = OUT / "timings.json"
    if args.only and current.exists():  # the chapters kept from the earlier run keep their times
        earlier = json.loads(current.read_text())
        if earlier["profile"] == args.profile:
            timings = {**earlier["seconds"], **timings}
        else:
            print(f"note: the other executed chapters ran at {earlier['profile']!r}", file=sys.stderr)
    record = json.dumps({"profile": args.profile, "seconds": timings}, indent=2)
    current.write_text(record)
    unexecuted = [f.name for f in all_notebooks if not (OUT / f.relative_to(ROOT)).exists()]
    if unexecuted:
        print(f"not executed yet (the site needs them): {', '.join(unexecuted)}", file=sys.stderr)
    if not args.only and not failed:  # kept across runs: the instructors' page shows each profile
        TIMINGS.mkdir(parents=True, exist_ok=True)
        (TIMINGS / f"{args.profile}.json").write_text(record)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
