"""Unpack a pinned MathJax 3 into _vendor/mathjax so the site renders math offline.

The site's pages load MathJax from their own _static/mathjax (tools/build_site.py copies
this folder into the build); without it they would fetch it from a CDN. The tarball comes
from the npm registry through `npm pack`. Idempotent: does nothing when already unpacked.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "3.2.2"
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "_vendor" / "mathjax"
ENTRY = "tex-chtml.js"
# what the TeX-to-CommonHTML bundle loads on demand: TeX extensions, fonts, menu, a11y
KEEP = (ENTRY, "input/", "output/chtml/", "ui/", "a11y/", "adaptors/")


def main() -> int:
    if (TARGET / ENTRY).exists() and (TARGET / "VERSION").read_text().strip() == VERSION:
        return 0
    npm = shutil.which("npm")
    if npm is None:
        print("fetch_mathjax: npm is needed once to fetch MathJax (Debian: apt-get install npm)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([npm, "pack", f"mathjax@{VERSION}", "--silent"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        tgz = next(Path(tmp).glob("mathjax-*.tgz"))
        if TARGET.exists():
            shutil.rmtree(TARGET)
        TARGET.mkdir(parents=True)
        with tarfile.open(tgz) as tar:
            for member in tar.getmembers():
                rel = member.name.removeprefix("package/es5/")
                if member.isfile() and rel != member.name and rel.startswith(KEEP):
                    member.name = rel
                    tar.extract(member, TARGET, filter="data")
    (TARGET / "VERSION").write_text(VERSION + "\n")
    print(f"MathJax {VERSION} unpacked into {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
