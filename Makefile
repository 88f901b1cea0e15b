# lab3: every target installs what it needs first (a virtualenv in .venv/ from the pinned lock).
# `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
KERNEL := lab3
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
RUNS_DIR ?= runs
LAB_PORT ?= 8888
LAB_ARGS ?=
# Jupyter refuses to run as root (containers, CI) unless told to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
PYTEST_ARGS ?=

# One compute thread everywhere: notebooks must print the same digits on every machine.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export PYTHONHASHSEED := 0

.PHONY: help setup lab notebooks run-all test bench clean lock

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv/ with the pinned requirements, lab3 (editable) and the lab3 kernel

# Redone only when the lock or the package metadata changes.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "lab3 needs Python 3.11 or newer; run e.g. 'make PYTHON=python3.11 ...'" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (lab3)" \
	  --env OMP_NUM_THREADS 1 --env OPENBLAS_NUM_THREADS 1 --env MKL_NUM_THREADS 1 --env PYTHONHASHSEED 0
	touch $@

lab: setup ## open JupyterLab on the notebooks (localhost only, token required)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) \
	  --ServerApp.port_retries=0 --ServerApp.root_dir=notebooks $(ALLOW_ROOT) $(LAB_ARGS)

# Streams are coalesced after execution: how the kernel happens to split a cell's printing into
# chunks depends on timing, and would otherwise show up as a diff on every refresh.
notebooks: setup ## re-execute every notebook whole in a fresh kernel and save its outputs
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.kernel_name=$(KERNEL) --ExecutePreprocessor.record_timing=False \
	  --ExecutePreprocessor.timeout=600 \
	  --NotebookExporter.preprocessors=nbconvert.preprocessors.CoalesceStreamsPreprocessor \
	  $(NOTEBOOKS)

run-all: setup ## execute every notebook with its defaults through papermill into $(RUNS_DIR)/
	@mkdir -p $(RUNS_DIR)/notebooks
	@for nb in $(NOTEBOOKS); do \
	  $(BIN)/papermill --kernel $(KERNEL) --cwd notebooks --no-progress-bar \
	    $$nb $(RUNS_DIR)/notebooks/$$(basename $$nb) || exit 1; \
	done
	@echo "run-all: outputs in $(RUNS_DIR)/notebooks/"

test: setup ## unit tests, then nbval over every notebook (outputs must match what is committed)
	$(PY) -m pytest tests $(NOTEBOOKS) --nbval --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg $(PYTEST_ARGS)

bench: setup ## timing scripts in benchmarks/, each printing side-by-side ratios
	@for script in $(sort $(wildcard benchmarks/bench_*.py)); do $(PY) $$script || exit 1; done

lock: ## re-resolve requirements.txt from pyproject.toml's ranges (then review the diff)
	rm -rf build/lock && $(PYTHON) -m venv build/lock
	build/lock/bin/pip install --quiet torch==2.13.0 -e '.[test,cluster]'
	{ head -2 requirements.txt; build/lock/bin/pip freeze --exclude-editable | sed 's/+cpu$$//'; } > requirements.txt.new
	mv requirements.txt.new requirements.txt

clean: ## remove build output (.venv/, runs/, handouts/, caches)
	rm -rf $(VENV) $(RUNS_DIR) handouts build .pytest_cache .hypothesis *.egg-info
	find . -name __pycache__ -prune -exec rm -rf {} +
