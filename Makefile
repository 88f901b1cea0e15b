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
# The lessons run alone by run-all; the sweep report runs once per sweep instead.
LESSON_RUNS = $(patsubst notebooks/%,$(RUNS_DIR)/notebooks/%,$(filter-out %_report.ipynb,$(NOTEBOOKS)))
LAB3_SOURCES := $(shell find lab3 -name "*.py" -o -name "*.j2")
SWEEPS := $(sort $(wildcard sweeps/*.yaml))
JOBS ?= 2
SCHEDULER ?=
RUNS_DIR ?= runs
LAB_PORT ?= 8888
EXPLORE_PORT ?= 8866
HANDOUTS ?= handouts
HANDOUT_SOURCES := $(wildcard lab3/handouts/*.py lab3/templates/*.j2 lab3/templates/*/*)
NBGRADER_STAMP := $(VENV)/.nbgrader-installed
LAB_ARGS ?=
# Jupyter refuses to run as root (containers, CI) unless told to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
PYTEST_ARGS ?=

# One compute thread everywhere: notebooks must print the same digits on every machine.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export PYTHONHASHSEED := 0

.PHONY: help setup lab lab-student explore notebooks run-all test test-fast test-heavy bench clean lock

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv/ with the pinned requirements, lab3 (editable) and the lab3 kernel

# Redone only when the lock or the package metadata changes.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "lab3 needs Python 3.11 or newer; run e.g. 'make PYTHON=python3.11 ...'" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "setup: installing the pinned packages into $(VENV)/ (1-2 minutes the first time, quiet)..."
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (lab3)" \
	  --env OMP_NUM_THREADS 1 --env OPENBLAS_NUM_THREADS 1 --env MKL_NUM_THREADS 1 --env PYTHONHASHSEED 0
	touch $@
	@echo "setup: done ($(VENV)/, the lab3 package and the '$(KERNEL)' Jupyter kernel)"

# JupyterLab as both lab targets start it, on folder $(1): loopback only, one fixed port, a token.
jupyter_lab = $(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) \
  --ServerApp.port_retries=0 --ServerApp.root_dir=$(1) $(ALLOW_ROOT) $(LAB_ARGS)
# The port is tried first: a busy one would otherwise end in a traceback from jupyter_server.
check_lab_port = $(PY) -c 'import socket, sys; s = socket.socket(); \
  s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' \
  '$(LAB_PORT)' 2>/dev/null || { echo "make $@: port $(LAB_PORT) on 127.0.0.1 is busy (another" \
  "JupyterLab?) or not a port number; choose another with LAB_PORT, e.g. make $@ LAB_PORT=8890" >&2; \
  exit 2; }

lab: setup ## open JupyterLab on the notebooks (localhost only, token required)
	@$(check_lab_port)
	$(call jupyter_lab,notebooks)

# The student's workspace: the handouts' student notebooks (no solution in that folder or under
# it), without terminals (a shell would reach the whole project). Rebuilt when a lesson changed;
# a build that would overwrite a notebook the student changed refuses (handouts never overwrite
# work), and the lab then opens on what is there.
lab-student: setup $(HANDOUTS)/index.html ## open JupyterLab on the student notebooks in handouts/student/ (built if needed)
	@$(check_lab_port)
	$(call jupyter_lab,$(HANDOUTS)/student) --ServerApp.terminals_enabled=False

# The playground alone as a web page (Voila): only the widget, no code, on 127.0.0.1 with a token
# (JUPYTER_TOKEN, or a new one, printed with the address). The port is checked first, as for lab.
explore: setup ## serve the playground alone as a web page (Voila, localhost only, token required)
	$(PY) -m lab3.playground.serve --port $(EXPLORE_PORT)

$(HANDOUTS)/index.html: $(NOTEBOOKS) $(HANDOUT_SOURCES) | $(STAMP)
	$(PY) -m lab3.handouts --out $(HANDOUTS) || { test -f $@ && \
	  echo "lab-student: the handouts were not rebuilt (see above); opening them as they are" >&2; }

# Streams are coalesced after execution: how the kernel happens to split a cell's printing into
# chunks depends on timing, and would otherwise show up as a diff on every refresh. Widget state
# (lesson 07's explorer, its picture included) is not saved: it only lives in a running kernel.
notebooks: setup ## re-execute every notebook whole in a fresh kernel and save its outputs
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.kernel_name=$(KERNEL) --ExecutePreprocessor.record_timing=False \
	  --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.store_widget_state=False \
	  --NotebookExporter.preprocessors=nbconvert.preprocessors.CoalesceStreamsPreprocessor \
	  $(NOTEBOOKS)

# The main job. Each lesson runs once with its defaults into $(RUNS_DIR)/notebooks/ (a file target:
# rerun only when the notebook or lab3 changes); then every sweep in sweeps/ runs, skipping the
# runs it already has, and writes its report. A second `make run-all` has nothing left to run.
run-all: setup $(LESSON_RUNS) ## run the lessons with their defaults, every sweep in sweeps/ and their reports
	@status=0; for sweep in $(SWEEPS); do \
	  $(PY) -m lab3.sweep $$sweep --jobs $(JOBS) $(if $(SCHEDULER),--scheduler $(SCHEDULER)) --report \
	    || status=$$?; \
	done; \
	echo "run-all: lessons in $(RUNS_DIR)/notebooks/, sweeps and reports in $(RUNS_DIR)/<sweep>/"; \
	exit $$status

# papermill writes its output even when a cell fails; only a notebook that ran through becomes
# the target, so a failed lesson is run again next time.
$(RUNS_DIR)/notebooks/%.ipynb: notebooks/%.ipynb $(LAB3_SOURCES) $(STAMP)
	@mkdir -p $(@D)
	$(BIN)/papermill --kernel $(KERNEL) --cwd notebooks --no-progress-bar --log-level WARNING \
	  $< $(@:.ipynb=.partial.ipynb)
	mv $(@:.ipynb=.partial.ipynb) $@

# pytest-xdist runs one worker per CPU (TEST_JOBS=1 for one process). --dist loadfile keeps each
# file on one worker, in order: a notebook's cells share one kernel, a module its fixtures.
# The notebooks, the longest files, are handed out first so that none is left for the end.
TEST_JOBS ?= logical
XDIST = $(if $(filter 1,$(TEST_JOBS)),,-n $(TEST_JOBS) --dist loadfile)

test: setup $(NBGRADER_STAMP) ## ruff (lint and format), then every test but the heavy ones (nbgrader's round trip too) and nbval over every notebook, in parallel
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) -m pytest $(XDIST) -m "not heavy" $(NOTEBOOKS) tests --nbval --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg $(PYTEST_ARGS)

# The tests that take a minute or more each: the explorer's verdicts against longer runs, sweep
# reports for random grids, a Dask cluster, the JupyterHub classroom. CI runs them after make test.
test-heavy: setup $(NBGRADER_STAMP) ## the heavy tests (verdict table, random-grid reports, Dask cluster, JupyterHub classroom)
	$(PY) -m pytest $(XDIST) -m heavy tests $(PYTEST_ARGS)

test-fast: setup ## ruff (lint and format), then the tests marked not slow: no kernel, server or browser (about a minute)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) -m pytest $(XDIST) -m "not slow" tests $(PYTEST_ARGS)

bench: setup ## timing scripts in benchmarks/, each printing side-by-side ratios
	@for script in $(sort $(wildcard benchmarks/bench_*.py)); do $(PY) $$script || exit 1; done

lock: ## re-resolve requirements.txt from pyproject.toml's ranges (then review the diff)
	rm -rf build/lock && $(PYTHON) -m venv build/lock
	build/lock/bin/pip install --quiet torch==2.13.0 -e '.[test,cluster]'
	{ head -2 requirements.txt; build/lock/bin/pip freeze --exclude-editable | sed 's/+cpu$$//'; } > requirements.txt.new
	mv requirements.txt.new requirements.txt

.PHONY: handouts handouts-pdf handouts-nbgrader
handouts: setup ## instructor and student versions of every lesson in handouts/ (offline HTML + index)
	$(PY) -m lab3.handouts --out $(HANDOUTS)

handouts-pdf: setup ## the handouts, also printed to PDF by a headless Chromium (says what to install if none)
	$(PY) -m lab3.handouts --out $(HANDOUTS) --pdf

handouts-nbgrader: $(NBGRADER_STAMP) ## an nbgrader course root in handouts/nbgrader/ (installs nbgrader into .venv first)
	$(PY) -m lab3.handouts --nbgrader --out $(HANDOUTS)/nbgrader

# nbgrader is for instructors only: its own lock, installed on top of the main one when needed.
$(NBGRADER_STAMP): requirements-nbgrader.txt $(STAMP)
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-nbgrader.txt
	touch $@

# The course on a local JupyterHub with nbgrader's exchange (docs/classroom.md): the instructor and
# CLASSROOM_STUDENTS students as Unix users, served on 127.0.0.1:HUB_PORT until Ctrl-C, which
# removes the users and CLASSROOM_DIR again. Needs root; the hub's environment is built once in
# CLASSROOM_ENV from a Python every user can run (requirements-hub.txt on top of both locks).
CLASSROOM_STUDENTS ?= 3
HUB_PORT ?= 8000
CLASSROOM_DIR ?= /srv/lab3-classroom
CLASSROOM_ENV ?= /opt/lab3-classroom
CLASSROOM_PYTHON ?= /usr/bin/python3
CLASSROOM_PREFIX ?= lab3-
PROXY_STAMP := classroom/node_modules/.installed

.PHONY: classroom classroom-check classroom-clean
classroom: classroom-check handouts-nbgrader $(PROXY_STAMP) ## the course on a local JupyterHub with nbgrader's exchange, one Unix user each (root; 127.0.0.1)
	$(PY) -m lab3.handouts.hub --students $(CLASSROOM_STUDENTS) --port $(HUB_PORT) \
	  --course $(HANDOUTS)/nbgrader --dir $(CLASSROOM_DIR) --env $(CLASSROOM_ENV) \
	  --python $(CLASSROOM_PYTHON) --prefix $(CLASSROOM_PREFIX)

classroom-clean: setup ## remove the classroom's environment (CLASSROOM_ENV) that make classroom built
	$(PY) -m lab3.handouts.hub --remove-env --env $(CLASSROOM_ENV)

# Said before anything is installed: what the classroom needs that make cannot install.
classroom-check:
	@test "$$(id -u)" = 0 || { echo "make classroom: it adds one Unix user per person and starts" \
	  "each server as that user, which needs root (sudo make classroom, in a VM or container of" \
	  "its own). Nothing was changed." >&2; exit 2; }
	@command -v npm >/dev/null || { echo "make classroom: no npm for configurable-http-proxy:" \
	  "install Node.js and npm (Debian: apt-get install nodejs npm)" >&2; exit 2; }

# configurable-http-proxy, the hub's proxy, exactly as classroom/package-lock.json pins it.
$(PROXY_STAMP): classroom/package-lock.json classroom/package.json
	npm ci --prefix classroom --no-audit --no-fund
	touch $@

clean: ## remove build output (.venv/, runs/, handouts/, caches)
	rm -rf $(VENV) $(RUNS_DIR) handouts build .pytest_cache .hypothesis *.egg-info
	find . -name __pycache__ -prune -exec rm -rf {} +
