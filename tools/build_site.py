"""Render the executed book (_build/executed) into _build/html with warnings as errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "_build" / "executed"


def main() -> int:
    if not (SOURCE / "_toc.yml").exists():
        print("no executed book: run tools/execute_notebooks.py first", file=sys.stderr)
        return 2
    command = [
        str(Path(sys.executable).parent / "jupyter-book"), "build", str(SOURCE),
        "--path-output", str(ROOT), "--builder", "html", "-W", "-n", "--keep-going",
    ]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
