# Two commands matter: `make run` (talk to the bot) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
HELPDESK = $(BIN)/helpdesk

.PHONY: run test lint install dev prepare encoder bench serve train kb-import clean help

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, from the local wheel; the `export` extra (sentence-transformers) builds the ONNX encoder.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[export]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,export]'
	touch $@

install: $(VENV)/.installed  ## Create .venv and install the bot

dev: $(VENV)/.dev-installed  ## Install the bot with the test dependencies

prepare: install  ## Export the ONNX encoder, migrate the database, import the bundled articles, train the intent model
	$(MAKE) --no-print-directory encoder
	$(HELPDESK) db upgrade
	$(HELPDESK) kb import data/kb
	@$(HELPDESK) nlu status --json | $(BIN)/python -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["latest"] and not d["stale"] else 1)' \
		|| $(HELPDESK) train

encoder: install  ## Export the sentence encoder to ONNX beside the models (reused while current; rebuilt on upgrade)
	@$(BIN)/python -c 'from bot.config import load_settings; from intents.encoder import export_encoder; print("ONNX encoder:", export_encoder(load_settings().paths.models_dir))'

bench: install  ## End-to-end performance benchmark (latency, cold start, HTTP throughput, import, RSS)
	$(BIN)/python bench/e2e.py

run: prepare  ## Chat with the bot in the terminal on embedded defaults
	$(HELPDESK) chat

serve: prepare  ## Run the HTTP server (Slack, webhooks, reset page, /model/parse)
	$(HELPDESK) serve

test: dev  ## Run the whole test suite (one worker per core, at most 4: pytest-xdist)
	$(BIN)/python -m pytest -n auto --maxprocesses 4

lint: dev  ## Lint (ruff) and type-check (mypy) the code; the layering is checked by tests/architecture
	$(BIN)/ruff check bot intents knowledge_base integrations training tests bench
	$(BIN)/mypy

clean:  ## Remove the virtual environment and local state
	rm -rf $(VENV) var models
