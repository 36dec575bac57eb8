# podsearch: `make demo` serves the sample corpus on http://127.0.0.1:8000; `make test` runs the suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DATA ?= data/demo

.PHONY: install demo test lint index-sample bench eval clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch 2.13.0 first: on these machines it is a CPU build on disk; a bare `torch` pulls CUDA (GBs).
$(STAMP): $(BIN)/python pyproject.toml requirements/embedder-nodeps.txt
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[api,mcp,indexer,embedder,dev]'
	$(BIN)/pip install --quiet --no-deps -r requirements/embedder-nodeps.txt
	touch $(STAMP)

install: $(STAMP)

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
