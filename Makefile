# Twitch chat archive: every developer and CI task. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= uv
PYTEST := $(UV) run pytest
UNIT := -m "not postgres and not nats and not redis"

DEMO_CHANNELS ?= pixelpioneer,speedrunsam,cozycraft,retrorally,nightowlgg,chessclub,lofibeats,dragonslayer
DEMO_RATE ?= 3
DEMO_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/twitch_archive_demo
# The built dashboard, served by the api at /; `make run` and `make demo` rebuild it when its
# sources changed (and npm is there).
WEB_DIST ?= $(CURDIR)/web/dist
WEB_SOURCES := $(shell find web/src web/public web/index.html web/package-lock.json web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)

.PHONY: help install services services-stop services-status migrate run demo test test-unit \
        test-integration test-debug e2e browser lint fmt typecheck check contracts bench bench-quick clean \
        web web-test tools

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: ## install uv if missing, then every package of the workspace from uv.lock
	@command -v $(UV) >/dev/null 2>&1 || { echo "installing uv"; python3 -m pip install --quiet uv; }
	@$(UV) sync --frozen --all-packages --quiet
	@echo "install: workspace synced from uv.lock into .venv"

services: install ## start PostgreSQL, NATS (JetStream) and Redis where they do not answer
	@$(UV) run python scripts/services.py start

services-stop: ## stop the servers `make services` started
	@$(UV) run python scripts/services.py stop

services-status: ## say which servers answer
	@$(UV) run python scripts/services.py status

migrate: services ## apply the database schema (idempotent)
	@$(UV) run twitch-archive migrate

web/dist/index.html: $(WEB_SOURCES)
	@if command -v npm >/dev/null 2>&1; then \
	  echo "dashboard: building web/dist"; cd web && npm ci --no-audit --no-fund --silent && npm run build --silent; \
	else echo "dashboard: npm not found, so the dashboard is not built (the api still serves /api); install Node 20"; fi

run: migrate web/dist/index.html ## install, start the servers, migrate, then run the whole system (CHANNELS=a,b)
	@echo "run: ingestor, writer, api (http://127.0.0.1:8000) and gateway; Ctrl-C stops them all"
	@WEB_DIST=$(WEB_DIST) $(UV) run --frozen honcho -f Procfile.dev start

demo: services web/dist/index.html ## the whole system on the simulated Twitch, in its own database: http://127.0.0.1:8000
	@DATABASE_URL=$(DEMO_DATABASE_URL) $(UV) run --frozen twitch-archive migrate
	@echo "demo: simulated channels $(DEMO_CHANNELS); open http://127.0.0.1:8000 (Ctrl-C stops)"
	@DATABASE_URL=$(DEMO_DATABASE_URL) NATS_NAMESPACE=demo. SIMULATOR_PORT=6680 \
	  DEMO_CHANNELS=$(DEMO_CHANNELS) DEMO_RATE=$(DEMO_RATE) WEB_DIST=$(WEB_DIST) \
	  $(UV) run --frozen honcho -f Procfile.demo start

browser: install ## install Debian's Chromium for the dashboard's browser tests if missing
	@$(UV) run python scripts/browser.py install

tools: install ## install the tools the tests call if missing: promtool (Debian's prometheus), nginx
	@$(UV) run python scripts/tools.py install

test: services browser tools web-test ## install, start the servers, run every test (web, unit, integration, e2e)
	@$(PYTEST) -q

test-unit: install ## pure tests, no servers needed
	@$(PYTEST) -q $(UNIT)

test-integration: services ## tests against real PostgreSQL, NATS and Redis
	@$(PYTEST) -q -m "postgres or nats or redis"

e2e: services browser ## end-to-end tests: simulator -> ingestor -> NATS -> writer -> PostgreSQL -> api, gateway
	@$(PYTEST) -q tests/e2e

test-debug: services ## every test with asyncio debug mode on
	@PYTHONASYNCIODEBUG=1 $(PYTEST) -q

lint: install ## ruff, formatting and import contracts
	@$(UV) run ruff check .
	@$(UV) run ruff format --check .
	@$(UV) run lint-imports

fmt: install ## fix lint and format the code
	@$(UV) run ruff check --fix .
	@$(UV) run ruff format .

typecheck: install ## mypy strict
	@$(UV) run mypy

check: lint typecheck test ## lint, typecheck and every test

contracts: install ## regenerate the JSON Schema of the event contract
	@$(UV) run twitch-archive contracts > packages/twitch-archive/schema/chat-events.v1.json
	@echo "contracts: packages/twitch-archive/schema/chat-events.v1.json regenerated"

bench: services browser ## run every benchmark and print the tables
	@$(UV) run python bench/run.py

bench-quick: services browser ## a fast smoke run of every benchmark
	@$(UV) run python bench/run.py --quick

web: ## build the dashboard into web/dist (Node 20, npm); `make run` then serves it at /
	@command -v npm >/dev/null 2>&1 || { echo "web: npm is missing: install Node 20 (apt-get install nodejs npm)"; exit 1; }
	@cd web && npm ci --no-audit --no-fund && npm run build && npm run size

web-test: ## the dashboard's tests (vitest, jsdom) and lint (oxlint, tsc)
	@command -v npm >/dev/null 2>&1 || { echo "web-test: npm is missing: install Node 20 (apt-get install nodejs npm)"; exit 1; }
	@cd web && npm ci --no-audit --no-fund && npm test && npm run lint

clean: ## remove caches and build output (keeps .state/ and its data)
	@rm -rf .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
	@find . -name __pycache__ -type d -prune -exec rm -rf {} +
