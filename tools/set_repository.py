"""Point the book at its GitHub repository: ``python tools/set_repository.py https://github.com/OWNER/REPO``.

The repository's address lives in ``_config.yml`` (``repository.url``: the launch and
repository buttons). Each chapter's Colab install cell must name the same repository (Colab
opens a notebook alone, without the repository around it, so the cell cannot read the
configuration), and so must the README; this script writes the address into all of them, and
``tests/test_notebooks_static.py`` checks that they agree. The student edition's notebooks
(student/book/, made from the chapters by tools/student_notebooks.py) are written anew from the
rewritten chapters. Run it once when the book is published or forked.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATTERN = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
CONFIG_LINE = re.compile(r"^(  url: )(\S+)$", re.M)


def configured() -> str:
    """The repository address that ``_config.yml`` holds."""
    match = CONFIG_LINE.search((ROOT / "_config.yml").read_text())
    if match is None:
        raise SystemExit("_config.yml has no repository url line")
    return match.group(2)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not PATTERN.match(argv[0]):
        print("usage: python tools/set_repository.py https://github.com/OWNER/REPO", file=sys.stderr)
        return 2
    new, old = argv[0], configured()
    config = ROOT / "_config.yml"
    config.write_text(CONFIG_LINE.sub(lambda m: m.group(1) + new, config.read_text(), count=1))
    for path in [ROOT / "README.md", *sorted((ROOT / "book").glob("*.ipynb"))]:
        text = path.read_text()
        if path.suffix == ".ipynb":  # keep the notebook's own JSON layout: replace inside strings
            text = json.dumps(json.loads(text.replace(old, new)), indent=1, ensure_ascii=False) + "\n"
        else:
            text = text.replace(old, new)
        path.write_text(text)
    sys.path.insert(0, str(ROOT / "tools"))
    import student_notebooks

    student_notebooks.write()
    print(f"repository: {old} -> {new}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
