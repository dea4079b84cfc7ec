# Koda control plane. `make run` serves the dashboard; `make test` runs the suite and lint.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
# Verification waits on providers (up to KODA_VERIFY_TIMEOUT_SECONDS per probe, a few probes):
# threads keep other requests moving meanwhile, and the timeout outlasts a slow verification.
# `make run` is the local quick start: development mode generates the keys once into ./var.
# For production set KODA_DEBUG=false with KODA_SECRET_KEY and KODA_ENCRYPTION_KEY (README).
run migrate: export KODA_DEBUG ?= true

.PHONY: run test lint migrate browser clean litellm

$(BIN)/.installed-run: requirements.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed-run requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

migrate: $(BIN)/.installed-run
	$(BIN)/python manage.py migrate --noinput

# The web server, the task worker (downloads, pulls) and the health sweeper, from the Procfile;
# Ctrl-C stops all three.
run: migrate
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py ensure_operator
	@echo "Koda control plane on http://$(HOST):$(PORT)/ (web, worker, sweeper; Ctrl-C stops all)"
	PYTHONUNBUFFERED=1 KODA_BIND=$(HOST):$(PORT) KODA_WEB_WORKERS=$(WORKERS) \
		$(BIN)/honcho start -f Procfile

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(BIN)/.installed-dev lint
	$(BIN)/pytest $(PYTEST_ARGS)

# A real LiteLLM proxy for the gateway tests (tests/integration), in a venv of its own; then
# `KODA_LITELLM=.venv-litellm/bin/litellm make test` runs them (CI always does).
litellm: .venv-litellm/.installed
.venv-litellm/.installed: requirements-litellm.txt constraints-litellm.txt
	test -x .venv-litellm/bin/python || $(PYTHON) -m venv .venv-litellm
	.venv-litellm/bin/pip install --quiet --disable-pip-version-check -r requirements-litellm.txt -c constraints-litellm.txt
	touch $@

# Debian's Chromium for the browser tests (root or sudo); Playwright drives it, nothing downloads.
browser:
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

clean:
	rm -rf $(VENV) .venv-litellm .pytest_cache .ruff_cache
