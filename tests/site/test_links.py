"""Every internal link of both editions resolves: the page it names exists and so does its
anchor (#id), so a renamed page or section cannot leave a dead link. Read from the built
HTML files, no server and no network; links to other hosts are not followed."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from test_browser import EDITIONS, ROOT, html_files

BASE = "http://site.invalid/"  # a stand-in origin, to resolve relative links with urljoin


@cache
def parsed(path: Path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@cache
def anchors(path: Path) -> frozenset[str]:
    """What a fragment may name in a page: an element's id or an <a>'s name."""
    soup = parsed(path)
    return frozenset(
        [t["id"] for t in soup.find_all(id=True)] + [a["name"] for a in soup.find_all("a", attrs={"name": True})]
    )


def dead_links(site: Path, page: Path) -> list[str]:
    """The links of one page whose file or anchor does not exist in the site."""
    here = BASE + str(page.relative_to(site))
    dead = []
    for a in parsed(page).find_all("a", href=True):
        url = urlsplit(urljoin(here, a["href"]))
        if url.netloc != urlsplit(BASE).netloc:
            continue
        target = site / unquote(url.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            dead.append(f"{a['href']}: no file {target.relative_to(site)}")
        elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in anchors(target):
            dead.append(f"{a['href']}: no #{unquote(url.fragment)} in {target.relative_to(site)}")
    return dead


def test_dead_links_names_a_missing_page_and_a_missing_anchor(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.html").write_text(
        '<h1 id="top">A</h1><a href="b.html#top">b</a><a href="#gone">x</a>'
        '<a href="../book/a.html#top">a</a><a href="https://example.org/">e</a>'
    )
    (tmp_path / "book" / "b.html").write_text('<a name="top">B</a>')
    assert dead_links(tmp_path, tmp_path / "book" / "a.html") == ["#gone: no #gone in book/a.html"]
    assert dead_links(tmp_path, tmp_path / "book" / "b.html") == []
    (tmp_path / "book" / "b.html").unlink()
    assert dead_links(tmp_path, tmp_path / "book" / "a.html") == [
        "b.html#top: no file book/b.html",
        "#gone: no #gone in book/a.html",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("edition", EDITIONS)
def test_every_internal_link_and_anchor_resolves(edition):
    site = EDITIONS[edition]
    pages = html_files(site)
    if not pages:
        pytest.fail(f"no site in {site.relative_to(ROOT)}: run `make site student`")
    checked, dead = 0, []
    for page in pages:
        links = dead_links(site, page)
        dead += [f"{page.relative_to(site)}: {d}" for d in links]
        checked += len(parsed(page).find_all("a", href=True))
    assert checked > len(pages), f"{edition}: too few links found to check ({checked})"
    assert not dead, f"{edition}: dead internal links:\n  " + "\n  ".join(dead)
