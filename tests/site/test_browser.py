"""Every page of the built site in headless Chromium: no console errors, no request that fails
or leaves the site, images loaded with alt text, math rendered, internal links that resolve,
launch buttons on chapter pages. Screenshots of the chapters go to _build/screenshots/."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"

pytestmark = pytest.mark.slow
SHOTS = ROOT / "_build" / "screenshots"
# sphinx-thebe 0.3.1 under jupyter-book 1.x adds its inline configuration script twice, so the
# second `const` declaration throws; the first one is in effect and thebe is not used here.
# sphinx-book-theme 1.3 renders pydata-sphinx-theme 0.17's layout without its `default_mode`
# (and rejects the option), so the theme logs an empty mode once and falls back to "auto".
KNOWN_UPSTREAM = ("page error: Identifier 'THEBE_JS_URL' has already been declared",
                  "console error: Got invalid theme mode: . Resetting to auto.")
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads", "jupyter_execute"}


def site_pages() -> list[str]:
    """Every HTML page of the built site, as paths relative to it (index.html is a redirect)."""
    if not SITE.exists():
        return []
    return sorted(str(p.relative_to(SITE)) for p in SITE.rglob("*.html")
                  if not SKIP_DIRS & set(p.relative_to(SITE).parts) and p.name != "index.html")


def toc_pages() -> list[str]:
    sys.path.insert(0, str(ROOT / "tools"))
    from execute_notebooks import toc_files

    return [f"{f}.html" for f in toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text()))]


def chapter_pages() -> set[str]:
    """Pages rendered from notebooks: those whose source the site ships as .ipynb."""
    return {str(p.relative_to(SITE / "_sources").with_suffix(".html"))
            for p in (SITE / "_sources").rglob("*.ipynb")}


@lru_cache(maxsize=None)
def ids_in(path: Path) -> frozenset[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return frozenset(tag["id"] for tag in soup.find_all(id=True))


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
        }""")
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
        for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
            parts = urlsplit(href)
            if parts.netloc != host:
                continue
            target = SITE / unquote(parts.path).lstrip("/")
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"dead link: {href}")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in ids_in(target):
                problems.append(f"dead anchor: {href}")
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
