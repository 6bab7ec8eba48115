"""Execute every chapter of the book with papermill, the profile injected, into _build/executed.

The executed copy is a complete book source (config, toc, bibliography, pages), rendered
afterwards with execution off (tools/build_site.py). Run times go to timings.json.
"""

from __future__ import annotations

import argparse
import json
import os
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


def copy_sources() -> list[Path]:
    """Copy the book's sources to OUT; return the notebooks to execute."""
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy(ROOT / name, OUT / name)
    shutil.copytree(ROOT / "book", OUT / "book", ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [ROOT / f"{f}.ipynb" for f in toc_files(toc) if (ROOT / f"{f}.ipynb").exists()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="default", choices=["smoke", "default", "full"])
    parser.add_argument("--only", help="execute only notebooks whose name contains this")
    args = parser.parse_args()
    notebooks = copy_sources()
    if args.only:
        notebooks = [nb for nb in notebooks if args.only in nb.name]
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    timings, failed = {}, []
    for nb in notebooks:
        target = OUT / nb.relative_to(ROOT)
        start = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(nb), str(target), parameters={"PROFILE": args.profile},
                kernel_name="python3", cwd=str(nb.parent), progress_bar=False,
            )
        except papermill.PapermillExecutionError as err:
            failed.append(nb.name)
            print(f"FAILED {nb.name}: {err.ename}: {err.evalue}", file=sys.stderr)
        timings[nb.stem] = round(time.perf_counter() - start, 1)
        print(f"{nb.name}: {timings[nb.stem]:.1f} s ({args.profile})", flush=True)
    record = json.dumps({"profile": args.profile, "seconds": timings}, indent=2)
    (OUT / "timings.json").write_text(record)
    if not args.only and not failed:  # kept across runs: the instructors' page shows each profile
        TIMINGS.mkdir(parents=True, exist_ok=True)
        (TIMINGS / f"{args.profile}.json").write_text(record)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
