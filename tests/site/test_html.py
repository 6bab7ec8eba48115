"""The Nu HTML checker (vnu, the W3C's validator) on every page of both editions: no error.
vnu.jar is the pinned copy in _vendor/vnu (tools/fetch_validators.py, `make validators`) and
runs with java; where java is missing the test skips and says so."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter

import pytest
from test_browser import EDITIONS, ROOT, html_files

pytestmark = pytest.mark.slow
VNU = ROOT / "_vendor" / "vnu" / "vnu.jar"


def vnu_errors(files: list[str]) -> list[dict]:
    """vnu's messages for the given HTML files, errors only (and any file it could not read),
    each with the file's "url"."""
    done = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", "--exit-zero-always", *files],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stderr)["messages"]


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_page_is_valid_html(edition):
    if shutil.which("java") is None:
        pytest.skip("the Nu HTML checker needs java, which is not installed (Debian: default-jre-headless)")
    if not VNU.exists():
        pytest.fail(f"no vnu.jar at {VNU.relative_to(ROOT)}: run `make validators`")
    site = EDITIONS[edition]
    files = [str(p) for p in html_files(site)]
    if not files:
        pytest.fail(f"no site in {site.relative_to(ROOT)}: run `make site student`")
    errors = vnu_errors(files)
    counts = Counter((m.get("url", "").rsplit(str(site) + "/", 1)[-1], m["message"]) for m in errors)
    if counts:
        pytest.fail(
            f"{edition}: {len(errors)} HTML errors on {len({p for p, _ in counts})} pages:\n  "
            + "\n  ".join(f"{page}: {message} (x{n})" for (page, message), n in sorted(counts.items()))
        )
