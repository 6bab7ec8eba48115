"""axe-core (the accessibility engine behind Lighthouse) on every page of both editions, at a
desktop (1280 px) and a phone (390 px) width. A critical or serious violation fails the page;
moderate and minor ones are listed as warnings in the test summary. Every page's findings go to
_build/screenshots/axe/. axe.min.js is the pinned copy in _vendor/axe-core
(tools/fetch_validators.py, `make validators`), so the check runs offline.
"""

from __future__ import annotations

import warnings

import pytest
from test_browser import DESKTOP, EDITIONS, PHONE, ROOT, keep_findings, on_page, site_pages

pytestmark = pytest.mark.slow
AXE = ROOT / "_vendor" / "axe-core" / "axe.min.js"
FAILING = ("critical", "serious")


class AxeFinding(UserWarning):
    """A moderate or minor axe-core violation: listed in the test summary, not a failure."""


# the page as a reader sees it: images decoded, MathJax done typesetting
SETTLE = """async () => {
    await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
    if (document.querySelector('.math') && window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
}"""
RUN = """async () => {
    const found = await axe.run(document, {resultTypes: ['violations']});
    return found.violations.map(v => ({rule: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary.replace(/\\s+/g, ' '))}));
}"""


def run_axe(page) -> list[dict]:
    """axe-core's violations on the loaded ``page``, once its images and math have settled."""
    page.evaluate(SETTLE)
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN)


def summary(violations: list[dict]) -> list[str]:
    """One line per rule: impact, rule, what it asks, how many nodes and the first of them."""
    return [
        f"{v['impact']} {v['rule']} ({v['help']}): {len(v['nodes'])} nodes, e.g. {v['nodes'][0]}" for v in violations
    ]


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("edition,rel", [(e, rel) for e, site in EDITIONS.items() for rel in site_pages(site)])
def test_page_has_no_serious_accessibility_violation(edition, rel, width, browser, request):
    if not AXE.exists():
        pytest.fail(f"no axe-core at {AXE.relative_to(ROOT)}: run `make validators`")
    url = request.getfixturevalue("site_url" if edition == "full" else "student_url")
    violations = on_page(browser, f"{url}/{rel}", width, run_axe)
    keep_findings("axe", edition, rel, width, violations)
    where = f"{edition} {rel} at {width} px"
    lesser = [v for v in violations if v["impact"] not in FAILING]
    if lesser:
        warnings.warn(AxeFinding(f"{where}:\n  " + "\n  ".join(summary(lesser))))
    failing = [v for v in violations if v["impact"] in FAILING]
    assert not failing, f"axe-core, {where}:\n  " + "\n  ".join(summary(failing))
