# The two commands of the README:
#   make run   - install everything, build the graph from real vocabularies, show what was built
#   make test  - install everything and run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/cdss kg build
	$(BIN)/cdss kg stats

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/build_graph.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
