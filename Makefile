# Quick start: `make run` (the main job) and `make test` (lint, types, tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck pytest bench soak fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/microgrid serve --demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# Test files run in parallel on TEST_WORKERS processes (pytest-xdist), each file whole on one
# of them so that its module-scoped replays are made once.
TEST_WORKERS ?= 2
pytest: $(VENV)/.installed-dev
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

test: lint typecheck pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run_all.py

# The service on an accelerated clock: 30 simulated days of 15-minute intraday runs for every
# bundled park, with polls, posted measurements, injected stalls, solver failures and restarts
# (hours of wall time; `make soak SOAK_ARGS="--days 1"` for a shorter one).
SOAK_ARGS ?= --days 30
soak: $(VENV)/.installed-dev
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

# schemathesis against the service's OpenAPI document with many more examples than the suite
# runs, random ones, re-plans included (SQLite, and PostgreSQL when it answers).
FUZZ_EXAMPLES ?= 200
fuzz: $(VENV)/.installed-dev
	MICROGRID_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) MICROGRID_FUZZ_RANDOM=1 MICROGRID_FUZZ_REPLANS=1 \
		$(BIN)/pytest -q -p no:cacheprovider tests/service/test_fuzz_schema.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
