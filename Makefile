# panneuro: the two commands of the README.
#   make reproduce   install .venv (if needed), regenerate every figure and the HTML report
#   make test        install .venv (if needed), run the whole test suite
# Anything else here is a convenience for developers:
#   make lab         JupyterLab on 127.0.0.1 (LAB_PORT, LAB_TOKEN), the venv as kernel, notebooks/

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
# datalad finds git-annex (installed from PyPI into the venv) only with the venv's bin on PATH.
export PATH := $(BIN):$(PATH)
STAMP := $(VENV)/.installed
CORES ?= all
SNAKEMAKE := $(BIN)/snakemake --cores $(CORES)

.PHONY: reproduce test install lint format clean-results lab

reproduce: $(STAMP)
	$(BIN)/panneuro forget-dropped-results results
	$(SNAKEMAKE)
	$(MAKE) --no-print-directory results/report.html

# The report is rebuilt only when a figure changed, so a second `make reproduce` does no work.
results/report.html: $(wildcard results/figures/*.png) $(wildcard workflow/report/*.rst)
	$(SNAKEMAKE) --report $@

# Two pytest-xdist workers, one test file each at a time (a file's module fixtures run once);
# the end-to-end files first, longest first (tests/conftest.py). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found; install Python 3.11 (Debian: apt-get install python3.11 python3.11-venv) or run make PYTHON=/path/to/python3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@# numba compiles SpikeInterface's kernels once per machine (20-30 s): here, not in the first sort
	$(BIN)/panneuro compile-kernels
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check src tests workflow bench
	$(BIN)/ruff format --check src tests workflow bench
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

format: $(STAMP)
	$(BIN)/ruff check --fix src tests workflow bench
	$(BIN)/ruff format src tests workflow bench
	$(BIN)/snakefmt Snakefile workflow/rules

clean-results:
	rm -rf results/* .snakemake/metadata

# JupyterLab on loopback only, opening notebooks/ with this venv as the kernel ("panneuro");
# the notebooks read the results of this folder (PANNEURO_ROOT). Without LAB_TOKEN, Jupyter
# makes one and prints the URL to open. Stop it with Ctrl-C. (--allow-root only when run as root.)
LAB_PORT ?= 8888
LAB_TOKEN ?=
lab: $(STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name panneuro --display-name "Python (panneuro)"
	PANNEURO_ROOT=$(CURDIR) $(if $(LAB_TOKEN),JUPYTER_TOKEN=$(LAB_TOKEN)) exec $(BIN)/jupyter lab \
	  --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) \
	  --ServerApp.port_retries=0 --ServerApp.root_dir=$(CURDIR) \
	  --LabApp.default_url=/lab/tree/notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# In a DataLad clone of the compendium: reproduce inside `datalad run`, so the results are saved
# back with a run record and `datalad rerun` repeats them. The compendium is annexed
# (.gitattributes: code and config in git; binary or >1 MB results in the annex, small text in
# git); a clone of a never-annexed origin is `git annex init`ed first. results/ is git-ignored
# (a plain `make reproduce` must not dirty the checkout), so the command adds them itself with
# `git annex add --no-check-gitignore` (not --force: this git-annex then annexes every file,
# ignoring annex.largefiles). `--input results` gets the content of saved results first:
# Snakemake 9.27 stops with "Unable to obtain modification time" at a dropped (annexed) figure.
.PHONY: datalad-reproduce
datalad-reproduce: $(STAMP)
	@test -e .datalad/config || { echo "make: datalad-reproduce needs a DataLad dataset; fix: datalad clone <compendium URL>, or here: datalad create --force ." >&2; exit 1; }
	git config annex.uuid >/dev/null || git annex init
	$(BIN)/datalad run -m "Reproduce every result (make reproduce)" --explicit --input results \
	  --output results "make reproduce && git annex add --no-check-gitignore results >/dev/null"
