"""Render the executed book (_build/executed) into _build/html with warnings as errors.

Before rendering, the pages that report on the build itself are generated into
book/_generated of the executed copy: the command-line help, the package versions, the API
module list, the chapter run times (tools/execute_notebooks.py's timings), the claims page
(every claim card of the executed chapters, autophagy.book.claims) and the intro's diagram of the
loop and its modes (autophagy.book.diagrams). MathJax is
copied from _vendor/mathjax (tools/fetch_mathjax.py) so math renders offline.
``--edition student`` renders the same book with the solutions hidden into
_build/student/html, its launch buttons opening the solution-free notebooks of student/book/
(tools/student_notebooks.py). The configuration, the toc and the pages other than the chapters are
copied from the sources again first, so a change to them shows without executing anew.
After rendering, tidy_pages fixes the markup of the theme and the extensions that the HTML
checker and axe-core reject (tests/site/test_html.py, test_accessibility.py).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import pkgutil
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "_build" / "executed"
MATHJAX = ROOT / "_vendor" / "mathjax"
TIMINGS = ROOT / "_build" / "timings"
PROFILES = ("smoke", "default", "full")
# the distributions whose versions decide the book's numbers and its rendering
VERSIONS = (
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "torch",
    "matplotlib",
    "seaborn",
    "transformers",
    "tokenizers",
    "sentence-transformers",
    "prdc",
    "sacrebleu",
    "papermill",
    "jupyter-book",
    "myst-nb",
    "sphinx",
    "sphinx-exercise",
)


def cli_help() -> str:
    """The output of `autophagy --help`, of each subcommand's --help and of `autophagy list`."""
    from autophagy import cli

    sub = next(a for a in cli._parser()._actions if isinstance(a.choices, dict))
    commands = [["--help"]] + [[name, "--help"] for name in sub.choices] + [["list"]]
    parts = []
    for args in commands:
        done = subprocess.run(
            [sys.executable, "-m", "autophagy.cli", *args], capture_output=True, text=True, check=True
        )
        parts.append((" ".join(["autophagy", *args]), done.stdout))
    return "\n".join(f"## `{title}`\n\n```text\n{text.rstrip()}\n```\n" for title, text in parts)


def versions() -> str:
    rows = [("Python", platform.python_version())]
    rows += [("autophagy", importlib.metadata.version("autophagy"))]
    for name in VERSIONS:
        try:
            rows.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    body = "\n".join(f"| {n} | {v} |" for n, v in rows)
    return f"| package | version |\n| --- | --- |\n{body}\n\nPlatform: {platform.platform()}.\n"


# The API page's groups, by role: (title, what the modules are for, module names or prefixes
# ending in "."). A module is listed under the first group that names it; api_groups() places
# every public module of the package, so a new one cannot go missing from the page.
API_GROUPS = (
    (
        "Running experiments",
        "`run()`, the named experiments and their parameters, sweeps and the command line.",
        (
            "autophagy.runs.runner",
            "autophagy.runs",
            "autophagy.experiments",
            "autophagy.experiments.",
            "autophagy.params",
            "autophagy.profiles",
            "autophagy.sweeps",
            "autophagy.runs.grid",
            "autophagy.runs.cluster",
            "autophagy.sweepplots",
            "autophagy.cli",
            "autophagy.recorded",
        ),
    ),
    (
        "The loop",
        "The self-consuming loop, the step its hooks get, the modes, the training sets, the run "
        "directory (a locked folder) and the records.",
        (
            "autophagy.engine",
            "autophagy.engine.loop",
            "autophagy.engine.step",
            "autophagy.engine.modes",
            "autophagy.engine.trainsets",
            "autophagy.runs.folder",
            "autophagy.runs.store",
            "autophagy.runs.history",
            "autophagy.files",
        ),
    ),
    (
        "Models",
        "What the loop refits: statistical models and neural ones, their starting weights.",
        ("autophagy.models", "autophagy.models.", "autophagy.weights", "autophagy.pretrain"),
    ),
    ("Metrics", "What the loop records each generation.", ("autophagy.metrics", "autophagy.metrics.")),
    (
        "Mitigations",
        "Selection, curation, filters, detectors and watermarks.",
        ("autophagy.mitigations", "autophagy.mitigations."),
    ),
    ("Data", "The real data sets and their cache.", ("autophagy.data", "autophagy.data.")),
    (
        "Theory",
        "Closed forms the runs are held against, and the fresh-data threshold.",
        ("autophagy.theory", "autophagy.threshold"),
    ),
    (
        "Book helpers",
        "What the chapters use: glue, claim cards, sizes, diagrams and the figure theme.",
        ("autophagy.book", "autophagy.book.", "autophagy.plotting"),
    ),
)


def public_modules() -> list[str]:
    """Every module of the package, found by walking it, less those with a private name."""
    import autophagy

    names = (m.name for m in pkgutil.walk_packages(autophagy.__path__, "autophagy."))
    return sorted(n for n in names if not any(part.startswith("_") for part in n.split(".")))


def api_groups() -> list[tuple[str, str, list[str]]]:
    """(title, purpose, modules) for each group of the API page, each module in one group."""
    left = public_modules()
    groups = []
    for title, purpose, names in API_GROUPS:
        mine = [n for n in left if any(n == k or (k.endswith(".") and n.startswith(k)) for k in names)]
        order = {k: i for i, k in enumerate(names)}
        mine.sort(key=lambda n: (order.get(n, len(names)), n))  # named modules first, in the order given
        left = [n for n in left if n not in mine]
        groups.append((title, purpose, mine))
    if left:
        raise ValueError(f"modules in no group of the API page (tools/build_site.py API_GROUPS): {', '.join(left)}")
    return groups


def api_modules() -> str:
    """The API page's body: the public modules grouped by role, one automodule directive each."""
    parts = []
    for title, purpose, names in api_groups():
        parts.append(f"## {title}\n\n{purpose}\n")
        parts += [f"### `{n}`\n\n```{{eval-rst}}\n.. automodule:: {n}\n   :members:\n```\n" for n in names]
    return "\n".join(parts)


def chapter_titles(book: Path) -> dict[str, str]:
    titles = {}
    for nb in sorted(book.glob("*.ipynb")):
        for cell in json.loads(nb.read_text())["cells"]:
            text = "".join(cell["source"]).strip()
            if cell["cell_type"] == "markdown" and text.startswith("# "):
                titles[nb.stem] = text.splitlines()[0][2:].strip()
                break
    return titles


def timings_table() -> str:
    """Seconds per chapter for each profile run on this machine (latest run of each)."""
    measured = {}
    for profile in PROFILES:
        path = TIMINGS / f"{profile}.json"
        if path.exists():
            measured[profile] = json.loads(path.read_text())
    current = SOURCE / "timings.json"
    if current.exists():  # the run this site was rendered from
        run = json.loads(current.read_text())
        measured.setdefault(run["profile"], run)
    titles = chapter_titles(SOURCE / "book")
    stems = sorted({s for run in measured.values() for s in run["seconds"]} | set(titles))
    head = "| chapter | " + " | ".join(f"`{p}` (s)" for p in PROFILES) + " |"
    rows = [head, "| --- " * (len(PROFILES) + 1) + "|"]
    for stem in stems:
        cells = [
            f"{measured[p]['seconds'][stem]:.0f}" if stem in measured.get(p, {}).get("seconds", {}) else "not run here"
            for p in PROFILES
        ]
        rows.append(f"| {titles.get(stem, stem)} | " + " | ".join(cells) + " |")
    machine = f"{platform.machine()}, {__import__('os').cpu_count()} CPU cores"
    return "\n".join(rows) + f"\n\nMeasured by `tools/execute_notebooks.py` on this build machine ({machine}).\n"


def recorded_table() -> str:
    """Every recorded run the package ships: its scale, the command that re-makes it, what it cost."""
    from autophagy import recorded

    rows = [
        "| recorded run | experiment | replicates x generations | wall time | hardware | re-made by |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in recorded.names():
        run = recorded.load(name)  # checked against its checksums, as the chapters read it
        params, record = run.params, run.record
        rows.append(
            f"| `{name}` | `{run.config['experiment']}` | {params['replicates']} x {params['generations']} | "
            f"{record['wall_seconds'] / 60:.0f} min | {record['hardware']} | `{record['rebuild']}` |"
        )
    return "\n".join(rows) + "\n"


def claims_page(book: Path) -> str:
    """Every claim card of the executed chapters, a table per chapter, with the run's profile."""
    from autophagy.book.claims import SYMBOL, collected

    run = json.loads((SOURCE / "timings.json").read_text()) if (SOURCE / "timings.json").exists() else {}
    titles = chapter_titles(book)
    held: dict[str, int] = {}
    parts = [f"These are the claims of the run this site shows, at the `{run.get('profile', '?')}` profile.\n"]
    for nb in sorted(book.glob("*.ipynb")):
        records = collected(json.loads(nb.read_text())["cells"])
        parts.append(f"## {{doc}}`{titles.get(nb.stem, nb.stem)} <{nb.stem}>`\n")
        if not records:
            parts.append("This chapter states no claim cards yet.\n")
            continue
        rows = [
            "| claim | source | expected | measured | evidence | verdict |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for r in records:
            value = "no replicate reached it" if r["value"] is None else f"{r['value']:.4g}"
            if r["low"] is not None and r["high"] is not None:
                value += f" ({r['low']:.4g} to {r['high']:.4g})"
            verdict = f"{SYMBOL[r['verdict']]} {r['verdict']}" + (f" ({r['untestable']})" if r["untestable"] else "")
            cells = [r["statement"], r["source"], r["expected"], f"{value}, n = {r['n']}", r["evidence"], verdict]
            rows.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
            held[r["verdict"]] = held.get(r["verdict"], 0) + 1
        parts.append("\n".join(rows) + "\n")
    tally = ", ".join(f"{n} {verdict}" for verdict, n in held.items()) or "no claims"
    parts.insert(1, f"In all: {tally}.\n")
    return "\n".join(parts)


LEVELS = {"level-intro": "introductory", "level-core": "core", "level-advanced": "advanced"}
EXERCISE = re.compile(r"```\{exercise\}[^\n]*\n((?::[\w-]+:[^\n]*\n)*)(.*?)```", re.S)


def markdown_text(nb: Path) -> str:
    cells = json.loads(nb.read_text())["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def objectives(text: str) -> list[str]:
    """The bullet list that follows "Learning objectives" (wrapped bullets joined)."""
    goals: list[str] = []
    for line in text.split("Learning objectives", 1)[-1].splitlines():
        if line.startswith("- "):
            goals.append(line[2:].strip())
        elif goals and line.startswith("  ") and line.strip():
            goals[-1] += " " + line.strip()
        elif goals:
            break
    return goals


def course() -> str:
    """Lecture sequence (the toc's chapter order), objectives and exercises by level."""
    sys.path.insert(0, str(ROOT / "tools"))
    from execute_notebooks import toc_files

    toc = yaml.safe_load((SOURCE / "_toc.yml").read_text())
    chapters = [f for f in toc_files(toc) if (SOURCE / f"{f}.ipynb").exists() and f != toc["root"]]
    lectures, exercises = [], []
    for i, name in enumerate(chapters, 1):
        text = markdown_text(SOURCE / f"{name}.ipynb")
        title = next(line[2:].strip() for line in text.splitlines() if line.startswith("# "))
        goals = objectives(text)
        lectures.append(f"{i}. {{doc}}`{title} </{name}>`: " + " ".join(goals))
        for options, body in EXERCISE.findall(text):
            label = re.search(r":label:\s*(\S+)", options)
            classes = re.search(r":class:([^\n]*)", options)
            level = next(
                (LEVELS[c] for c in (classes.group(1).split() if classes else []) if c in LEVELS), "not marked"
            )
            first = " ".join(body.split())
            gist = first if len(first) <= 90 else first[:87].rsplit(" ", 1)[0] + " ..."
            ref = f"{{ref}}`{label.group(1)}`" if label else "(unlabelled)"
            exercises.append(f"| {i} | {ref} | {level} | {gist.replace('|', '/')} |")
    table = "| lecture | exercise | level | asks |\n| --- | --- | --- | --- |\n" + "\n".join(exercises)
    return "## Lecture sequence\n\n" + "\n".join(lectures) + "\n\n## Exercises by level\n\n" + table + "\n"


def loop_diagram(path: Path) -> None:
    """The intro's figure: the loop and its modes, drawn by autophagy.book.diagrams, as SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from autophagy import plotting
    from autophagy.book import diagrams

    plotting.theme()
    fig = diagrams.loop_diagram()
    with plt.rc_context({"svg.hashsalt": "autophagy"}):  # with no date: same bytes each build
        fig.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)


def generate(book: Path) -> None:
    gen = book / "_generated"
    gen.mkdir(exist_ok=True)
    loop_diagram(gen / "loop_diagram.svg")
    (gen / "cli.md").write_text(cli_help())
    (gen / "versions.md").write_text(versions())
    (gen / "api.md").write_text(api_modules())
    (gen / "timings.md").write_text(timings_table())
    (gen / "recorded.md").write_text(recorded_table())
    (gen / "course.md").write_text(course())
    (gen / "claims.md").write_text(claims_page(book))


# The rendered pages, made valid HTML (Nu HTML checker) and accessible (axe-core) where the
# markup is not the project's own: tests/site/test_html.py and test_accessibility.py check it.
def redirect_page(target: str) -> str:
    """The site's index.html: jupyter-book writes a bare <meta> refresh, with no doctype or title."""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Redirecting to {target}</title>\n'
        f'<meta http-equiv="Refresh" content="0; url={target}">\n</head>\n'
        f'<body><p>This page has moved to <a href="{target}">{target}</a>.</p></body>\n</html>\n'
    )


def column_headed(table, cell) -> bool:
    """Whether another header cell of the table's head stands over the same columns as cell."""

    def spans(row):
        at, out = 0, []
        for th in row.find_all(["th", "td"], recursive=False):
            width = int(th.get("colspan", 1))
            out.append((th, range(at, at + width)))
            at += width
        return out

    head = table.find("thead")
    rows = [spans(r) for r in head.find_all("tr")] if head else []
    mine = next(cols for row in rows for th, cols in row if th is cell)
    return any(th is not cell and th.get_text(strip=True) and set(cols) & set(mine) for row in rows for th, cols in row)


def accessible_markup(html: str) -> str:
    """One rendered page with its third-party markup fixed (each fix says whose markup it is)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    # myst-nb's folded code cells: <p> is not allowed in <summary>, and the summary's
    # aria-label ("Toggle hidden content") hides its visible text ("Show code cell source")
    for summary in soup.select("details.hide > summary"):
        del summary["aria-label"]
        for p in summary.find_all("p", recursive=False):
            p.name = "span"  # book.css gives the spans Sphinx's and myst-nb's rules for these <p>
    # sphinx-exercise gives every exercise's and solution's body the same id
    for section in soup.select("section#exercise-content, section#solution-content"):
        owner = section.find_parent(id=True)
        section["id"] = f"{owner['id']}-{section['id']}"
    # pandas' tables (DataFrame._repr_html_): a <style scoped> before each table, not valid
    # HTML (browsers ignore "scoped" and apply its rules to the whole page, so its rules go to
    # the page's <head>, once each, in the same order), the obsolete halign attribute, and
    # blank header cells that head no column (the index names' row, the corner above named
    # index levels), which are data cells. A blank corner above an unnamed index stays a
    # header cell, which axe-core lists: the chapter names that index (rename_axis).
    rules = []
    for style in soup.select("div > style[scoped]"):
        if style.find_next_sibling("table", class_="dataframe") is not None:
            rules.append(style.string)
            style.decompose()
    if rules:
        soup.head.append(soup.new_tag("style", string="\n".join(dict.fromkeys(rules))))
    for table in soup.select("table.dataframe"):
        for th in table.select("th[halign]"):
            del th["halign"]
        for th in table.select("thead th"):
            if not th.get_text(strip=True) and column_headed(table, th):
                th.name = "td"
    # docutils' HTML5 writer (Sphinx, sphinxcontrib-bibtex's citations): doc-biblioentry is a
    # deprecated role, and a list (role="list") must hold list items
    for entry in soup.select('[role="doc-biblioentry"]'):
        entry["role"] = "listitem"
    # pydata-sphinx-theme (under sphinx-book-theme): the search button's aria-label
    # ("Search") leaves out its visible text ("Search Ctrl+K"); the colour-mode button is
    # named by its aria-label, so its icons' titles (shown as SVG titles by Font Awesome)
    # only add text the name leaves out; the primary sidebar (the book's title, search and
    # table of contents) is in no landmark
    for button in soup.select(".search-button-field[aria-label]"):
        del button["aria-label"]
    for icon in soup.select(".theme-switch-button .theme-switch[title]"):
        del icon["title"]
    for sidebar in soup.select("#pst-primary-sidebar"):
        sidebar["role"] = "complementary"
        sidebar["aria-label"] = "Book navigation"
    return soup.decode(formatter="html5")


def tidy_pages(site: Path) -> None:
    """Apply accessible_markup to every page of a rendered site and rewrite its redirect."""
    index = site / "index.html"
    target = re.search(r'url=([^"]+)"', index.read_text(encoding="utf-8")).group(1)
    index.write_text(redirect_page(target), encoding="utf-8")
    for page in site.rglob("*.html"):
        if page != index and "_static" not in page.relative_to(site).parts:
            page.write_text(accessible_markup(page.read_text(encoding="utf-8")), encoding="utf-8")


def student_config(source: Path) -> Path:
    """The book's _config.yml with the solutions hidden, written next to it."""
    config = yaml.safe_load((source / "_config.yml").read_text())
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["hide_solutions"] = True
    # the page sources (_sources/*.ipynb, *.md) hold the solutions: do not ship them
    sphinx["html_copy_source"] = False
    sphinx["html_show_sourcelink"] = False
    # nor the download button that links to them (merged into the theme options jupyter-book
    # derives from _config.yml instead of replacing them)
    config["sphinx"]["recursive_update"] = True
    sphinx["html_theme_options"] = {"use_download_button": False}
    # the launch buttons (Binder, Colab) open the solution-free copies of the chapters that
    # tools/student_notebooks.py writes into student/book/: repository.url + path_to_book + page
    config.setdefault("repository", {})["path_to_book"] = "student"
    config["title"] = config["title"] + " (student edition)"
    path = source / "_config_student.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edition", choices=["full", "student"], default="full")
    args = parser.parse_args()
    if not (SOURCE / "_toc.yml").exists():
        print("no executed book: run tools/execute_notebooks.py first", file=sys.stderr)
        return 2
    if not (MATHJAX / "tex-chtml.js").exists():
        print("no local MathJax: run tools/fetch_mathjax.py first", file=sys.stderr)
        return 2
    # the configuration, toc, static files and text pages as they are now (the executed
    # chapters stay): a change to _config.yml or book/_static shows without re-executing
    sys.path.insert(0, str(ROOT / "tools"))
    from execute_notebooks import copy_sources

    copy_sources(keep_executed=True)
    # not under _static: jupyter-book would add every .js file found there to every page
    static = SOURCE / "_mathjax" / "mathjax"
    if not static.exists():
        shutil.copytree(MATHJAX, static)
    generate(SOURCE / "book")
    command = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(SOURCE),
        "--builder",
        "html",
        "-W",
        "-n",
        "--keep-going",
    ]
    if args.edition == "full":
        code = subprocess.call(command + ["--path-output", str(ROOT)])
        if code == 0:
            tidy_pages(ROOT / "_build" / "html")
        return code
    out = ROOT / "_build" / "student"
    shutil.rmtree(out, ignore_errors=True)
    code = subprocess.call(command + ["--path-output", str(out), "--config", str(student_config(SOURCE))])
    if code == 0:
        (out / "_build" / "html").rename(out / "html")
        shutil.rmtree(out / "_build")
        tidy_pages(out / "html")
        print(f"The student edition is in {(out / 'html').relative_to(ROOT)}")
    return code


if __name__ == "__main__":
    sys.exit(main())
