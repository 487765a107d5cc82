# AssureHub — the two commands are `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
TOOLS := var/tools
UV := $(TOOLS)/bin/uv
BIN := .venv/bin
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
# Local service addresses (written by scripts/services.sh up).
WITH_SERVICES := set -a && . var/services.env && set +a &&

.PHONY: help setup services-up services-down services-status migrate run test lint \
        test-unit test-integration test-tools bench clean

help:
	@echo "make run    set up everything and run the backend (API on http://127.0.0.1:8000)"
	@echo "make test   set up everything, lint, and run unit, integration and e2e tests"
	@echo "make bench  run the benchmarks in bench/"
	@echo "make services-up | services-down | services-status"

$(UV):
	python3 -m venv $(TOOLS) 2>/dev/null || { rm -rf $(TOOLS); \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv \
	  && python3 -m venv $(TOOLS); }
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

.venv/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --quiet
	touch $@

setup: .venv/.synced

services-up:
	bash scripts/services.sh up

services-down:
	bash scripts/services.sh down

services-status:
	bash scripts/services.sh status

migrate: setup services-up
	$(WITH_SERVICES) $(BIN)/assurehub migrate

run: migrate
	$(WITH_SERVICES) ASSUREHUB_ENV=$${ASSUREHUB_ENV:-development} \
	  ASSUREHUB_LOG_FORMAT=$${ASSUREHUB_LOG_FORMAT:-text} exec $(BIN)/assurehub dev

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Programs the tests read rendered documents with (poppler, zbar), and the
# official AsyncAPI parser (npm, pinned) that validates docs/events/asyncapi.yaml.
test-tools:
	bash scripts/test-tools.sh
	bash scripts/asyncapi-tools.sh

test-unit: setup test-tools
	$(BIN)/pytest tests/unit -q

test-integration: setup services-up test-tools
	$(WITH_SERVICES) $(BIN)/pytest tests/integration tests/e2e -q

test: lint test-unit test-integration

bench: setup services-up
	$(WITH_SERVICES) $(BIN)/python -m bench

clean:
	rm -rf .venv .mypy_cache .pytest_cache .ruff_cache
