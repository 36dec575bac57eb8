# podsearch: `make demo` serves the sample corpus on http://127.0.0.1:8000; `make test` runs the suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DATA ?= data/demo

.PHONY: install lock demo test lint index-sample bench eval clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch 2.13.0 first: on these machines it is a CPU build on disk; a bare `torch` pulls CUDA (GBs).
# Then everything else at the exact versions of requirements/dev.lock (the images use the other
# locks the same way), and the pins that must go in without their declared dependencies.
$(STAMP): $(BIN)/python pyproject.toml requirements/dev.lock requirements/embedder-nodeps.txt
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet --constraint requirements/dev.lock -e '.[api,mcp,indexer,embedder,dev]'
	$(BIN)/pip install --quiet --no-deps -r requirements/embedder-nodeps.txt
	touch $(STAMP)

install: $(STAMP)

# requirements/*.lock: the exact versions of every install, compiled from pyproject.toml's ranges
# for CPython 3.11 on x86_64 Linux, one per image plus dev (all extras, mcp included). `make lock` after changing
# a dependency keeps every other pin; `make lock LOCK_ARGS=--upgrade` moves all to the newest.
# LOCK_SOURCES says where torch's CPU build is: this machine's wheel folder; elsewhere
# LOCK_SOURCES='--extra-index-url https://download.pytorch.org/whl/cpu --index-strategy unsafe-best-match'.
LOCK_SOURCES ?= --find-links /opt/wheels
COMPILE = $(BIN)/uv pip compile --quiet --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --override requirements/torch-cpu.txt \
	--custom-compile-command 'make lock' $(LOCK_SOURCES) $(LOCK_ARGS) pyproject.toml

lock: $(BIN)/python
	$(BIN)/pip install --quiet --constraint requirements/dev.lock uv
	$(COMPILE) --extra api -o requirements/api.lock
	$(COMPILE) --extra indexer -o requirements/indexer.lock
	$(COMPILE) --extra embedder -o requirements/embedder.lock
	$(COMPILE) --extra api --extra mcp --extra indexer --extra embedder --extra dev -o requirements/dev.lock

demo: install
	DEMO_DATA=$(DEMO_DATA) scripts/demo.sh

test: install
	scripts/ensure-chromium.sh
	$(BIN)/pytest

# Benchmarks (quick sizes; see bench/README.md) and retrieval quality over the golden questions.
bench: install
	$(BIN)/python -m bench.run_all

eval: install
	$(BIN)/python -m bench.eval $(EVAL_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
