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

.PHONY: run test install system-packages bench clean

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

# Some tests drive programs from Debian: Chromium (the browser tests), nginx (the proxy in front of gunicorn,
# tests/unit/api/test_proxy.py) and redis-server (the rate limits replicas share, tests/unit/api/test_rate_limits.py).
# They are installed here when this machine can (root, or sudo without a password, and apt); otherwise those tests
# skip and say why.
system-packages:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	for need in "chromium:chromium chromium-driver" "nginx:nginx-light" "redis-server:redis-server"; do \
	  program=$${need%%:*}; packages=$${need#*:}; \
	  command -v $$program >/dev/null 2>&1 || [ -x /usr/sbin/$$program ] && continue; \
	  if [ "$$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; then \
	    $$SUDO apt-get install -y --no-install-recommends $$packages >/dev/null 2>&1 || \
	    { $$SUDO apt-get update >/dev/null 2>&1 && $$SUDO apt-get install -y --no-install-recommends $$packages >/dev/null 2>&1; }; \
	  fi; \
	  command -v $$program >/dev/null 2>&1 || [ -x /usr/sbin/$$program ] || echo "$$program could not be installed: its tests will be skipped"; \
	done

test: install system-packages
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
