# Two entry points, both from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test check bench clean

$(STAMP): pyproject.toml constraints.txt
	@scripts/ensure-system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

setup: $(STAMP)

## Load every list found in ../shared/data (or ECONSEC_DATA) into the workspace, then serve the API.
run: setup
	$(BIN)/econsec lists load
	$(BIN)/econsec serve

## The whole test suite.
test: setup
	$(BIN)/pytest

## Static checks (also run by .ci/run).
check: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/screening_quality.py
	$(BIN)/python benchmarks/screening_throughput.py
	$(BIN)/python benchmarks/list_load.py
	$(BIN)/python benchmarks/batch_screening.py
	$(BIN)/python benchmarks/ownership_coverage.py
	$(BIN)/python benchmarks/determinations.py

clean:
	rm -rf $(VENV) .econsec .pytest_cache .mypy_cache .ruff_cache
