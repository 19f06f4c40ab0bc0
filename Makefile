# Marrow Aftercare. Two commands set everything up on a fresh machine:
#   make run   - install what is missing, train the model if its data changed, serve the API
#   make test  - install what is missing, train if needed, run every test
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MODEL  := models/aftercare.tar.gz

# Rasa 3.6 needs Python 3.10: take the first python3.10 that really runs (a pyenv shim may not).
PYTHON310 := $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 \
	/usr/local/bin/python3.10 /usr/bin/python3.10; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: help install browser train run test lint eval bench clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: $(STAMP)  ## create .venv and install every dependency (idempotent)

# One pip run resolves everything together, then pip check proves Rasa's pins still hold.
$(STAMP): pyproject.toml tools/pyproject.toml
	@if [ -z "$(PYTHON310)" ]; then \
		echo "error: Python 3.10 not found (Rasa 3.6 supports 3.8-3.10)." >&2; \
		echo "       Install it, e.g. 'pyenv install 3.10' or 'apt-get install python3.10'." >&2; \
		exit 1; fi
	@test -x $(BIN)/python || { echo "creating $(VENV) with $(PYTHON310)"; $(PYTHON310) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24,<25"
	$(BIN)/python -m pip install --progress-bar off -e ".[dev]" -e ./tools
	$(BIN)/python -m pip check
	@touch $@

browser:  ## install Debian's chromium for the browser tests (needs root)
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" != 0 ]; then echo "error: chromium missing; run 'sudo apt-get install chromium'" >&2; exit 1; fi; \
		echo "installing Debian's chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

train: install  ## train the Rasa model (skipped when data, domain and config are unchanged)
	$(BIN)/aftercare train

run: train  ## serve the API, widget demo and staff console on http://127.0.0.1:8000
	$(BIN)/aftercare serve

test: train browser  ## run the whole test suite (unit, Rasa, API, database, browser)
	$(BIN)/python -m pytest

# Every check runs even when an earlier one fails, so one run lists everything to fix.
# What mypy checks, and how strictly, is in pyproject.toml ([tool.mypy]).
LINTED := bot actions api tools tests
lint: install  ## static checks: ruff check, ruff format --check, mypy
	@status=0; \
	echo "ruff check"; $(BIN)/ruff check $(LINTED) || status=1; \
	echo "ruff format --check"; $(BIN)/ruff format --check $(LINTED) || status=1; \
	echo "mypy"; $(BIN)/mypy || status=1; \
	exit $$status

eval: train  ## triage evaluation report under reports/
	$(BIN)/aftercare eval

bench: train  ## latency/throughput benchmark against plain Rasa, report under reports/
	$(BIN)/aftercare bench

clean:  ## remove the trained model and local data (keeps .venv)
	rm -rf models var results .pytest_cache .mypy_cache .ruff_cache
