# Two commands matter: `make run` (talk to the bot) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
HELPDESK = $(BIN)/helpdesk

.PHONY: run test lint install dev serve train kb-import clean help

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed  ## Create .venv and install the bot

dev: $(VENV)/.dev-installed  ## Install the bot with the test dependencies

prepare: install  ## Migrate the database, import the bundled articles, train the intent model
	$(HELPDESK) db upgrade
	$(HELPDESK) kb import data/kb
	@$(HELPDESK) nlu status --json | $(BIN)/python -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["latest"] and not d["stale"] else 1)' \
		|| $(HELPDESK) train

run: prepare  ## Chat with the bot in the terminal on embedded defaults
	$(HELPDESK) chat

serve: prepare  ## Run the HTTP server (Slack, webhooks, reset page, /model/parse)
	$(HELPDESK) serve

test: dev  ## Run the whole test suite
	$(BIN)/python -m pytest

lint: dev  ## Lint (ruff) and type-check (mypy) the code; the layering is checked by tests/architecture
	$(BIN)/ruff check bot intents knowledge_base integrations training tests bench
	$(BIN)/mypy

clean:  ## Remove the virtual environment and local state
	rm -rf $(VENV) var models
