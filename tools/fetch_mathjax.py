"""Unpack a pinned MathJax 3 into _vendor/mathjax so the site renders math offline.

The site's pages load MathJax from their own _static/mathjax (tools/build_site.py copies
this folder into the build); without it they would fetch it from a CDN. The tarball comes
from the npm registry through `npm pack` (npm_unpack, which tools/fetch_validators.py uses
too). Idempotent: does nothing when already unpacked.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

VERSION = "3.2.2"
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "_vendor" / "mathjax"
ENTRY = "tex-chtml.js"
# what the TeX-to-CommonHTML bundle loads on demand: TeX extensions, fonts, menu, a11y
KEEP = (ENTRY, "input/", "output/chtml/", "ui/", "a11y/", "adaptors/")


def npm_unpack(package: str, version: str, target: Path, rename: Callable[[str], str | None]) -> bool:
    """Fetch package@version with `npm pack` and extract into target (emptied first) the files
    that rename maps to a path (None leaves a file out), then write target/VERSION.
    False, with a note, where npm is missing."""
    npm = shutil.which("npm")
    if npm is None:
        print(f"npm is needed once to fetch {package} (Debian: apt-get install npm)", file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", f"{package}@{version}", "--silent"], cwd=tmp, check=True, stdout=subprocess.DEVNULL
        )
        tgz = next(Path(tmp).glob("*.tgz"))
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        with tarfile.open(tgz) as tar:
            for member in tar.getmembers():
                rel = rename(member.name) if member.isfile() else None
                if rel:
                    member.name = rel
                    tar.extract(member, target, filter="data")
    (target / "VERSION").write_text(version + "\n")
    print(f"{package} {version} unpacked into {target.relative_to(ROOT)}")
    return True


def is_unpacked(target: Path, entry: str, version: str) -> bool:
    """Whether target holds its entry file at the pinned version (npm_unpack's VERSION file)."""
    version_file = target / "VERSION"
    return (target / entry).exists() and version_file.exists() and version_file.read_text().strip() == version


def mathjax_file(name: str) -> str | None:
    """Where a file of MathJax's tarball goes in TARGET: the ES5 bundle's files that KEEP names."""
    rel = name.removeprefix("package/es5/")
    return rel if rel != name and rel.startswith(KEEP) else None


def main() -> int:
    if is_unpacked(TARGET, ENTRY, VERSION):
        return 0
    return 0 if npm_unpack("mathjax", VERSION, TARGET, mathjax_file) else 2


if __name__ == "__main__":
    sys.exit(main())
