# Two commands do all set-up: `make test` and `make demo`.
# Both create ./.venv when it is missing and (re)install when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= demo.db
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install browsers test demo bench clean shell

install: $(STAMP)

# torch first, pinned to the CPU build on this machine's disk: otherwise
# sentence-transformers pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The browser tests (tests/browser) drive Debian's chromium through its chromedriver; a CJK font
# makes the Japanese pages render as text, not boxes. apt-get runs (as root) only when one is missing.
browsers:
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver && fc-list :lang=ja 2>/dev/null | grep -q . \
	|| (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver fonts-noto-cjk)

# ruff first (lint + format check: a style slip fails the build like a test);
# pytest exits 5 when it collected no test: that is a broken suite, not a pass.
test: $(STAMP) browsers
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$rc

demo: $(STAMP)
	$(BIN)/coder demo --db $(DEMO_DB) --force
	$(BIN)/coder serve --db $(DEMO_DB) --host $(HOST) --port $(PORT)

# A shell (yours, from $SHELL) with .venv's bin first on PATH, so the README's bare `coder …` commands work;
# `exit` returns to where you were.
shell: $(STAMP)
	@echo "make shell: .venv is active, \`coder\` is on PATH; type exit to leave"
	@VIRTUAL_ENV="$(CURDIR)/$(VENV)" PATH="$(CURDIR)/$(BIN):$$PATH" $${SHELL:-/bin/sh}

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
