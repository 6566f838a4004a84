# Two commands do all set-up: `make test` and `make demo`.
# Both create ./.venv when it is missing and (re)install when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= demo.db
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install test demo bench clean

install: $(STAMP)

# torch first, pinned to the CPU build on this machine's disk: otherwise
# sentence-transformers pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# pytest exits 5 when it collected no test: that is a broken suite, not a pass.
test: $(STAMP)
	$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$rc

demo: $(STAMP)
	$(BIN)/coder demo --db $(DEMO_DB) --force
	$(BIN)/coder serve --db $(DEMO_DB) --host $(HOST) --port $(PORT)

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
