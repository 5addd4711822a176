# deskops — `make help` lists the targets. `make run` and `make test` set everything up themselves.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The CPU build of torch 2.13.0 is available locally; any other version pulls gigabytes of CUDA packages.
TORCH := torch==2.13.0

.DEFAULT_GOAL := help
.PHONY: help install run test lint bench

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv and install deskops with its dev tools (torch pinned to 2.13.0, CPU)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install ## Build the demo workspace if it is missing and print its summary
	$(BIN)/deskops demo

test: install ## Run the test suite (SQLite and a throwaway PostgreSQL; the slow evals run in `make bench`)
	$(BIN)/pytest -m "not slow"

lint: install ## Check style and types (ruff, mypy)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

bench: install ## Run the benchmarks and the slow evaluation tests (tens of minutes; not part of `make test`)
	$(BIN)/pytest -m slow
	$(BIN)/deskops bench simulate --json
	$(BIN)/deskops bench search --json
	$(BIN)/deskops bench analytics --json
	$(BIN)/deskops bench frontline --json
	$(BIN)/deskops bench changes --json
	$(BIN)/deskops eval review --split both --json
	$(BIN)/deskops eval timetravel --seeds 5 --json
