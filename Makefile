# Two commands do all the set-up: `make run` (the chat UI on the demo inbox, offline engine)
# and `make test` (lint, types and the whole test suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint typecheck docs bench load-test clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/smart-inbox ui

lint: $(STAMP)
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --check --no-cache .

typecheck: $(STAMP)
	$(BIN)/mypy

# The docs site; `--strict` turns a broken link or a page left out of the menu into an error.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet --site-dir .site

test: lint typecheck docs
	LANGGRAPH_STRICT_MSGPACK=true $(BIN)/pytest -q

# The fast tier: lint and the unit tests (no servers, no browser), for every change.
test-fast: lint
	LANGGRAPH_STRICT_MSGPACK=true $(BIN)/pytest -q tests/unit

# bench.side_by_side compares the first triage with `mu index` and `notmuch new` when they are
# installed (apt-get install maildir-utils notmuch); it installs nothing itself.
bench: $(STAMP)
	@command -v mu >/dev/null && command -v notmuch >/dev/null || echo "make bench: mu or notmuch not found; bench.side_by_side leaves them out (install: apt-get install maildir-utils notmuch)"
	$(BIN)/python -m bench.run_all

# The load test alone (SQLite, PostgreSQL, two processes); prints its report.
load-test: $(STAMP)
	$(BIN)/python -m bench.load_test

clean:
	rm -rf $(VENV) .smart-inbox .site .pytest_cache .mypy_cache .ruff_cache
