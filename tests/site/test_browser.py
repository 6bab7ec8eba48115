"""Every page of the built site in headless Chromium: no console errors, no request that fails
or leaves the site, images loaded with alt text, math rendered, launch buttons on chapter
pages. Screenshots of the chapters go to _build/screenshots/. (test_links.py checks the
internal links of both editions, test_accessibility.py and test_html.py run validators.)

The layout checks load every page of both editions at a desktop (1280 px) and a phone (390 px)
width: no figure is shown wider than its natural pixel width, no display equation reaches past
the article's content column (at the phone width one may scroll inside its own box), and no
page is wider than the window. What they measured goes to _build/screenshots/layout/.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
STUDENT = ROOT / "_build" / "student" / "html"

pytestmark = pytest.mark.slow
SHOTS = ROOT / "_build" / "screenshots"
# sphinx-thebe 0.3.1 under jupyter-book 1.x adds its inline configuration script twice, so the
# second `const` declaration throws; the first one is in effect and thebe is not used here.
# sphinx-book-theme 1.3 renders pydata-sphinx-theme 0.17's layout without its `default_mode`
# (and rejects the option), so the theme logs an empty mode once and falls back to "auto".
KNOWN_UPSTREAM = (
    "page error: Identifier 'THEBE_JS_URL' has already been declared",
    "console error: Got invalid theme mode: . Resetting to auto.",
)
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads", "jupyter_execute"}


def html_files(site: Path) -> list[Path]:
    """Every HTML file of a built site, the redirect index.html included."""
    return sorted(p for p in site.rglob("*.html") if not SKIP_DIRS & set(p.relative_to(site).parts))


def site_pages(site: Path = SITE) -> list[str]:
    """Every HTML page of a built site, as paths relative to it (index.html is a redirect)."""
    return [str(p.relative_to(site)) for p in html_files(site) if p.name != "index.html"]


def toc_pages() -> list[str]:
    sys.path.insert(0, str(ROOT / "tools"))
    from execute_notebooks import toc_files

    return [f"{f}.html" for f in toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text()))]


def chapter_pages() -> set[str]:
    """Pages rendered from notebooks: those whose source the site ships as .ipynb."""
    return {str(p.relative_to(SITE / "_sources").with_suffix(".html")) for p in (SITE / "_sources").rglob("*.ipynb")}


def test_every_toc_entry_is_built():
    built = set(site_pages())
    missing = [p for p in toc_pages() if p not in built]
    assert not missing, f"pages of _toc.yml missing from _build/html: {missing}"


def test_there_are_chapter_pages_with_notebook_sources():
    chapters = chapter_pages()
    assert chapters and chapters <= set(site_pages())


@pytest.mark.parametrize("rel", site_pages())
def test_page_in_browser(rel, browser, site_url):
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    host = urlsplit(site_url).netloc

    def route(r):
        # the site must work offline: a request for another host is a defect, not a detail
        if urlsplit(r.request.url).netloc not in (host, ""):
            problems.append(f"request to another host: {r.request.url}")
            return r.abort()
        return r.continue_()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    try:
        page.goto(f"{site_url}/{rel}", wait_until="load")
        # images lower down the page load lazily: load them all, then wait for each
        images = page.evaluate("""async () => {
            const imgs = [...document.querySelectorAll('img')];
            imgs.forEach(i => { i.loading = 'eager'; });
            await Promise.all(imgs.map(i => i.decode().catch(() => null)));
            return imgs.map(i => ({src: i.getAttribute('src') || '', alt: (i.getAttribute('alt') || '').trim(),
                                  width: i.naturalWidth,
                                  caption: !!(i.closest('figure') && i.closest('figure').querySelector('figcaption'))}));
        }""")  # noqa: E501
        for img in images:
            if img["width"] == 0:
                problems.append(f"image not loaded: {img['src']}")
            # myst-nb's default alt text is the file's own path: that describes nothing
            if (not img["alt"] or img["alt"] == img["src"]) and not img["caption"]:
                problems.append(f"image without alt text or caption: {img['src']}")
        math = page.evaluate("""async () => {
            const n = document.querySelectorAll('.math').length;
            if (n && window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
            return {math: n, rendered: document.querySelectorAll('mjx-container').length,
                    errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent)};
        }""")
        if math["math"] and math["rendered"] < math["math"]:
            problems.append(f"math not rendered: {math['rendered']} of {math['math']} formulas")
        problems += [f"TeX error: {e}" for e in math["errors"]]
        if rel in chapter_pages():
            notebook = rel.removesuffix(".html") + ".ipynb"
            links = page.eval_on_selector_all(".dropdown-launch-buttons a[href]", "as => as.map(a => a.href)")
            for service in ("https://mybinder.org/", "https://colab.research.google.com/"):
                found = [h for h in links if h.startswith(service)]
                if not found:
                    problems.append(f"no launch button for {service}")
                elif not all(h.endswith(notebook) for h in found):
                    problems.append(f"launch button does not open {notebook}: {found}")
            if not (ROOT / notebook).exists():
                problems.append(f"launch buttons point to {notebook}, which is not in the repository")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / (rel.replace("/", "__").removesuffix(".html") + ".png")), full_page=True)
    finally:
        page.close()
    problems = [p for p in problems if p not in KNOWN_UPSTREAM]
    assert not problems, f"{rel}:\n  " + "\n  ".join(dict.fromkeys(problems))


DESKTOP, PHONE = 1280, 390
MEASURE = """async () => {
    const imgs = [...document.querySelectorAll('img')];
    imgs.forEach(i => { i.loading = 'eager'; });
    await Promise.all(imgs.map(i => i.decode().catch(() => null)));
    if (document.querySelector('.math') && window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
    const article = document.querySelector('article.bd-article') || document.querySelector('main');
    const box = article.getBoundingClientRect(), style = getComputedStyle(article);
    const column = {left: box.left + parseFloat(style.paddingLeft), right: box.right - parseFloat(style.paddingRight)};
    const items = window.MathJax && MathJax.startup && MathJax.startup.document ? [...MathJax.startup.document.math] : [];
    const tex = e => { const item = items.find(m => m.typesetRoot === e); return item ? item.math.trim().slice(0, 60) : ''; };
    const shown = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    return {
        column: column,
        page: document.documentElement.scrollWidth, window: window.innerWidth,
        figures: imgs.filter(shown).filter(i => article.contains(i)).map(i => ({
            src: i.getAttribute('src'), shown: i.getBoundingClientRect().width, natural: i.naturalWidth})),
        equations: [...document.querySelectorAll('mjx-container[display="true"]')].filter(shown).map(e => {
            const r = e.getBoundingClientRect();
            return {left: r.left, right: r.right, content: e.scrollWidth, box: e.clientWidth,
                    tex: tex(e)};
        }),
    };
}"""  # noqa: E501


def layout_problems(m: dict, width: int) -> list[str]:
    """What a page's measurements (MEASURE) break; tolerances of one CSS pixel for rounding."""
    problems = []
    column = m["column"]["right"] - m["column"]["left"]
    if m["page"] > m["window"] + 1:
        problems.append(f"page is {m['page']} px wide in a {m['window']} px window")
    for f in m["figures"]:
        if f["natural"] and f["shown"] > f["natural"] + 1:
            problems.append(f"figure shown at {f['shown']:.0f} px, wider than its {f['natural']} px: {f['src']}")
    for e in m["equations"]:
        if e["left"] < m["column"]["left"] - 1 or e["right"] > m["column"]["right"] + 1:
            problems.append(
                f"equation box {e['left']:.0f}-{e['right']:.0f} px outside the column "
                f"{m['column']['left']:.0f}-{m['column']['right']:.0f} px"
            )
        # on a phone a formula may scroll in its own box; on a desktop it fits the column
        if width >= DESKTOP and e["content"] > column + 1:
            problems.append(f"equation {e['content']} px wide in a {column:.0f} px column: {e['tex']!r}")
    return problems


EDITIONS = {"full": SITE, "student": STUDENT}


def on_page(browser, url: str, width: int, read):
    """What ``read(page)`` returns for ``url`` loaded in a window ``width`` px wide."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(url, wait_until="load")
        return read(page)
    finally:
        page.close()


def keep_findings(kind: str, edition: str, rel: str, width: int, findings) -> None:
    """Save what a check found on one page, as JSON under _build/screenshots/KIND/EDITION/."""
    out = SHOTS / kind / edition / f"{rel.replace('/', '__').removesuffix('.html')}-{width}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(findings, indent=1))


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("edition,rel", [(e, rel) for e, site in EDITIONS.items() for rel in site_pages(site)])
def test_layout_fits_the_column(edition, rel, width, browser, request):
    url = request.getfixturevalue("site_url" if edition == "full" else "student_url")
    measured = on_page(browser, f"{url}/{rel}", width, lambda page: page.evaluate(MEASURE))
    keep_findings("layout", edition, rel, width, measured)
    problems = layout_problems(measured, width)
    assert not problems, f"{edition} {rel} at {width} px:\n  " + "\n  ".join(dict.fromkeys(problems))
