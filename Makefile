# Two commands do all the set-up: `make run` (the chat UI on the demo inbox, offline engine)
# and `make test` (lint, types and the whole test suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench load-test clean

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

test: lint typecheck
	LANGGRAPH_STRICT_MSGPACK=true $(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

# The load test alone (SQLite, PostgreSQL, two processes); prints its report.
load-test: $(STAMP)
	$(BIN)/python -m bench.load_test

clean:
	rm -rf $(VENV) .smart-inbox .pytest_cache .mypy_cache .ruff_cache
