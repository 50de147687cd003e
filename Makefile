# The two commands of the README:
#   make run   - install everything, build the graph from real vocabularies and the NLP pipeline over it,
#                show what was built, then serve the API on it (Ctrl-C stops it)
#   make test  - install everything and run the test suite
PYTHON ?= python3
# Sources are fetched from CDSS_SOURCES_MIRROR, else from ../shared/data when it exists, else online.
MIRROR ?= $(or $(CDSS_SOURCES_MIRROR),$(wildcard ../shared/data))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# A machine with a GPU can ask for another build: make TORCH='torch==2.13.0 --index-url ...'
TORCH ?= torch==2.13.0
PORT ?= 8000

.PHONY: run test install browser bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# The CPU build of torch first, so the open requirement in pyproject.toml does not pull CUDA.
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/cdss data fetch $(if $(MIRROR),--mirror $(MIRROR)) || echo "some sources could not be fetched; building from those present"
	$(BIN)/cdss kg build
	$(BIN)/cdss kg stats --sources
	$(BIN)/cdss nlp build
	echo "No chest pain. Three days of fever and productive cough; mother had breast cancer." | $(BIN)/cdss nlp extract -
	$(BIN)/cdss rank --cases examples/cases.jsonl --top 3 --brief
	$(BIN)/cdss serve --demo-key --port $(PORT)

# The browser tests drive Debian's Chromium. It is installed here when this machine can (root, or sudo without a
# password, and apt); otherwise those tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; then \
	    $$SUDO apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null 2>&1 || \
	    { $$SUDO apt-get update >/dev/null 2>&1 && $$SUDO apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null 2>&1; }; \
	  fi; \
	  command -v chromium >/dev/null 2>&1 || echo "Chromium could not be installed: the browser tests will be skipped"; }

test: install browser
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/build_graph.py $(if $(MIRROR),--mirror $(MIRROR))
	$(BIN)/python benchmarks/nlp_pipeline.py --no-ner
	$(BIN)/python benchmarks/ingest_records.py
	$(BIN)/python benchmarks/rank_cases.py
	$(BIN)/python benchmarks/gnn_training.py
	$(BIN)/python benchmarks/image_training.py --epochs 1
	$(BIN)/python benchmarks/api_load.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
