# The two commands a newcomer needs are `make run` and `make test`; both do all the set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
STAMPS := .make
FLASK := $(BIN)/flask --app wsgi

.PHONY: help run serve test test-sqlite test-postgres setup assets db seed lint typecheck bench lock clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

run: setup db seed ## Set up everything, load demo data, serve on http://127.0.0.1:$(PORT) with one queue worker
	@$(FLASK) demo-accounts
	@echo "Serving on http://127.0.0.1:$(PORT) with one queue worker (Ctrl+C stops both)"
	@$(BIN)/honcho start -f Procfile -p $(PORT)

test: setup $(STAMPS)/system-test ## Set up everything, lint, type-check and run every test (also on PostgreSQL when TEST_DATABASE_URL is set, and the system test when TEST_REDIS_URL is too)
	$(BIN)/ruff check traded_app tests bench
	$(BIN)/ruff format --check traded_app tests bench
	$(BIN)/mypy traded_app
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/check_house.py
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
	  $(BIN)/pytest -m "not system"; \
	else \
	  echo "Running every test on SQLite and, at the same time (one core each), the database-facing tests again on PostgreSQL (its output follows the SQLite run's)"; \
	  mkdir -p $(STAMPS); \
	  TRADED_TEST_DB=postgres TEST_REDIS_URL="$$(echo "$$TEST_REDIS_URL" | sed -E 's#/[0-9]+$$#/1#')" \
	    $(BIN)/pytest -p no:unraisableexception -p no:cacheprovider --basetemp="$$(mktemp -d -t traded-postgres-XXXXXX)" \
	    tests/unit tests/integration > $(STAMPS)/postgres.log 2>&1 & postgres=$$!; \
	  $(BIN)/pytest -m "not system"; sqlite=$$?; \
	  wait $$postgres; on_postgres=$$?; \
	  echo "The same tests on PostgreSQL:"; cat $(STAMPS)/postgres.log; \
	  echo "SQLite: exit $$sqlite; PostgreSQL: exit $$on_postgres"; \
	  [ $$sqlite -eq 0 ] && [ $$on_postgres -eq 0 ]; \
	fi
	@echo "The system test, once: two app instances and two queue workers on PostgreSQL and Redis"
	$(BIN)/pytest -m system tests/system

setup: $(STAMPS)/system-run $(VENV)/.installed static/dist/manifest.json ## Install system packages, the virtualenv and front-end assets

$(STAMPS)/system-run: scripts/system-packages.sh
	@scripts/system-packages.sh run
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/system-test: scripts/system-packages.sh
	@scripts/system-packages.sh test
	@mkdir -p $(STAMPS) && touch $@

# The stamp lives inside the virtualenv, so deleting .venv makes the next run rebuild it.
$(VENV)/.installed: pyproject.toml requirements.lock
	@[ -n "$(PYTHON)" ] && $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "Please install Python 3.11 or later (apt-get install python3 python3-venv)." >&2; exit 1; }
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "Could not create the virtualenv: install python3-venv." >&2; exit 1; }
	@echo "Installing the pinned Python packages into $(VENV)"
	@$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]' \
	  || { echo "Could not install the Python packages (see pip's message above); check the network or proxy and run make again." >&2; exit 1; }
	@touch $@

assets: static/dist/manifest.json ## Fetch the pinned GOV.UK Frontend and htmx into static/vendor, build the CSS, and give every static file a content-hashed, compressed copy in static/dist

# axe-core for the browser tests comes from node_modules too, so it has its own stamp.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "Please install Node.js and npm (apt-get install nodejs npm)." >&2; exit 1; }
	@echo "Fetching the pinned front-end packages (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error \
	  || { echo "Could not fetch the pinned front-end packages with npm (see its message above); check the network or npm proxy and run make again." >&2; exit 1; }
	@touch $@

static/vendor/.stamp: node_modules/.installed static/src/app.scss
	rm -rf static/vendor
	mkdir -p static/vendor/govuk-frontend static/vendor/htmx
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/vendor/govuk-frontend/
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
	node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps --silence-deprecation=import \
	  --load-path=node_modules static/src/app.scss static/vendor/app.css
	@touch $@

# Hashed names, gzip and brotli copies and the manifest that static_url() reads
# (traded_app/static_assets.py); rebuilt when any static file changes.
STATIC_FILES := $(shell find static -type f -not -name '.*' -not -path 'static/dist/*' \
  -not -path 'static/vendor/*' -not -path 'static/src/*' 2>/dev/null)
static/dist/manifest.json: static/vendor/.stamp $(STATIC_FILES) traded_app/static_assets.py | $(VENV)/.installed
	$(BIN)/python -m traded_app.static_assets

db: setup ## Bring the database schema up to date (Alembic migrations)
	@mkdir -p instance
	@$(FLASK) db upgrade

seed: db ## Load the demo data (idempotent; refused in production)
	@$(FLASK) seed-demo

serve: setup db ## Serve as production does: gunicorn and queue workers (set SECRET_KEY and APP_ENV=production)
	$(BIN)/honcho start -f Procfile.production -p $(PORT)

lint: setup ## Lint and check formatting with ruff
	$(BIN)/ruff check traded_app tests bench
	$(BIN)/ruff format --check traded_app tests bench

typecheck: setup ## Type-check the package with mypy and check the import contracts in pyproject.toml
	$(BIN)/mypy traded_app
	$(BIN)/lint-imports --no-cache

bench: setup db ## Run the benchmarks: pages, the ordering day-count request, the council overview at 1,000 schools, the finance register and aged debt at 10,000 documents, invoice PDFs, a statement of 500 documents, a 30,000-row GIAS import, ledger exports at 10k and 100k lines (ratios against a baseline), page weight on a first and a returning visit, an invoice run of 1,000 documents with 1 and 2 queue workers, what queueing an e-mail adds to a request (Redis too when BENCH_REDIS_URL is set), closing a year for 600 schools (the preview against /healthz, the close in one transaction), and a short buy-back morning under load (BUYBACK_FULL=1 for issue 12's, on PostgreSQL too with BUYBACK_DATABASE_URL)
	status=0; $(BIN)/python bench/run.py || status=$$?; \
	$(BIN)/python bench/ordering.py || status=$$?; \
	$(BIN)/python bench/overview.py || status=$$?; \
	$(BIN)/python bench/finance_pages.py || status=$$?; \
	$(BIN)/python bench/invoices.py || status=$$?; \
	$(BIN)/python bench/statement_render.py || status=$$?; \
	$(BIN)/python bench/gias_import.py || status=$$?; \
	$(BIN)/python bench/finance_exports.py || status=$$?; \
	$(BIN)/python bench/page_weight.py || status=$$?; \
	$(BIN)/python bench/queue_enqueue.py || status=$$?; \
	$(BIN)/python bench/queue_runs.py || status=$$?; \
	$(BIN)/python bench/year_close.py || status=$$?; \
	$(BIN)/python bench/buyback.py --sqlite || status=$$?; \
	if [ -n "$$BUYBACK_DATABASE_URL" ]; then $(BIN)/python bench/buyback.py --postgres || status=$$?; fi; \
	exit $$status

lock: ## Re-pin Python packages after changing pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip freeze --exclude-editable > requirements.lock

clean: ## Remove the virtualenv, node_modules and built assets (not the database)
	rm -rf $(VENV) node_modules static/vendor static/dist $(STAMPS)
