"""Write the student edition's notebooks: every chapter of book/ with its solutions removed, into
student/book/ (committed, so the student edition's Binder and Colab buttons open them).

``python tools/student_notebooks.py`` rewrites student/book/ from book/; ``--check`` only says
whether the committed copies are what it would write (tests/site/test_student.py runs that
check, so the copies cannot drift from the chapters). Each ``{solution}`` directive (backtick
or colon fence) is cut from the markdown cells with the blank lines that set it off; a cell
left empty goes; nothing else changes (code cells, outputs, metadata, cell ids, the JSON
layout). Run it after editing a chapter; tools/set_repository.py runs it too.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
STUDENT = ROOT / "student" / "book"
# a {solution} directive and its body, with the blank lines before it
SOLUTION = re.compile(r"\n*^(`{3,}|:{3,})\{solution\}[^\n]*\n.*?^\1[ \t]*$\n?", re.M | re.S)


def without_solutions(text: str) -> str:
    """The notebook JSON ``text`` with every solution directive removed from its markdown."""
    nb = json.loads(text)
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            cut = SOLUTION.sub("\n", source)
            if cut != source:
                cut = cut.strip("\n")
                if not cut.strip():
                    continue
                cell = {**cell, "source": cut.splitlines(keepends=True)}
        cells.append(cell)
    nb["cells"] = cells
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def expected() -> dict[Path, str]:
    """student/book/NAME.ipynb -> the text it should hold, for every chapter of book/."""
    return {STUDENT / nb.name: without_solutions(nb.read_text(encoding="utf-8")) for nb in sorted(BOOK.glob("*.ipynb"))}


def differences() -> list[str]:
    """What differs between student/book/ and what this tool writes."""
    want = expected()
    have = set(STUDENT.glob("*.ipynb")) if STUDENT.exists() else set()
    out = [f"missing: {p.relative_to(ROOT)}" for p in sorted(set(want) - have)]
    out += [f"not a chapter of book/: {p.relative_to(ROOT)}" for p in sorted(have - set(want))]
    out += [
        f"stale: {p.relative_to(ROOT)}" for p in sorted(set(want) & have) if p.read_text(encoding="utf-8") != want[p]
    ]
    return out


def write() -> None:
    STUDENT.mkdir(parents=True, exist_ok=True)
    want = expected()
    for path in STUDENT.glob("*.ipynb"):
        if path not in want:
            path.unlink()
    for path, text in want.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report whether student/book/ is current")
    args = parser.parse_args(argv)
    if args.check:
        diff = differences()
        for line in diff:
            print(line, file=sys.stderr)
        if diff:
            print("run: python tools/student_notebooks.py", file=sys.stderr)
        return 1 if diff else 0
    write()
    print(f"student notebooks written to {STUDENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
