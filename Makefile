# panneuro: the two commands of the README.
#   make reproduce   install .venv (if needed), regenerate every figure and the HTML report
#   make test        install .venv (if needed), run the whole test suite
# Anything else here is a convenience for developers.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
# datalad finds git-annex (installed from PyPI into the venv) only with the venv's bin on PATH.
export PATH := $(BIN):$(PATH)
STAMP := $(VENV)/.installed
CORES ?= all
SNAKEMAKE := $(BIN)/snakemake --cores $(CORES)

.PHONY: reproduce test install lint format clean-results

reproduce: $(STAMP)
	$(SNAKEMAKE)
	$(MAKE) --no-print-directory results/report.html

# The report is rebuilt only when a figure changed, so a second `make reproduce` does no work.
results/report.html: $(wildcard results/figures/*.png) $(wildcard workflow/report/*.rst)
	$(SNAKEMAKE) --report $@

test: $(STAMP)
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found; install Python 3.11 (Debian: apt-get install python3.11 python3.11-venv) or run make PYTHON=/path/to/python3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check src tests workflow bench
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

format: $(STAMP)
	$(BIN)/ruff check --fix src tests workflow bench
	$(BIN)/ruff format src tests workflow bench
	$(BIN)/snakefmt Snakefile workflow/rules

clean-results:
	rm -rf results/* .snakemake/metadata
