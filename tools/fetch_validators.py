"""Unpack the pinned validators that tests/site runs into _vendor/, once, so the browser
checks work offline: axe-core's axe.min.js (injected into each page) and the Nu HTML
checker's vnu.jar (run with java). Both come from the npm registry through `npm pack`.
Idempotent: does nothing when the pinned versions are already unpacked.
"""

from __future__ import annotations

import sys

from fetch_mathjax import ROOT, is_unpacked, npm_unpack

# package, version, folder under _vendor, file kept (the tarball's path: where it goes)
VALIDATORS = (
    ("axe-core", "4.14.1", "axe-core", {"package/axe.min.js": "axe.min.js", "package/LICENSE": "LICENSE"}),
    ("vnu-jar", "26.9.27", "vnu", {"package/build/dist/vnu.jar": "vnu.jar", "package/LICENSE": "LICENSE"}),
)


def main() -> int:
    for package, version, folder, files in VALIDATORS:
        target = ROOT / "_vendor" / folder
        entry = next(iter(files.values()))
        if not is_unpacked(target, entry, version) and not npm_unpack(package, version, target, files.get):
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
