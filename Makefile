# Minsheng — every set-up step is here, so two commands work on a fresh machine:
#   make demo   start the product on SQLite with a generated demo city
#   make test   run the whole test suite (SQLite, and PostgreSQL when one is reachable)

PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
UV := .tools/bin/uv
PY := $(VENV)/bin/python
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/minsheng
PORT ?= 8000
SEED ?= 2026

.PHONY: demo serve test test-sqlite test-postgres venv assets system lint bench bench-projects bench-ledger \
	bench-feedback bench-telemetry bench-evm bench-ocds bench-redflags messages clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --quiet --python $(PYTHON)
	touch $@

venv: $(VENV)/.synced

minsheng/static/vendor/.installed: package.json package-lock.json scripts/vendor_assets.sh
	bash scripts/vendor_assets.sh
	touch $@

assets: minsheng/static/vendor/.installed

system:
	bash scripts/ensure_system.sh

demo: venv assets
	$(VENV)/bin/minsheng demo --seed $(SEED) --port $(PORT)

serve: venv assets
	$(VENV)/bin/minsheng serve --port $(PORT)

test: venv assets system
	$(VENV)/bin/ruff check .
	$(VENV)/bin/minsheng check --fail-level WARNING
	$(VENV)/bin/minsheng makemigrations --check --dry-run
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$DATABASE_URL" ] || $(PY) scripts/pg_reachable.py; then \
		$(MAKE) --no-print-directory test-postgres; \
	elif [ -n "$$MINSHENG_REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL is required (MINSHENG_REQUIRE_POSTGRES) but not reachable on 127.0.0.1:5432" >&2; exit 1; \
	else \
		echo "== PostgreSQL not reachable: ran the suite on SQLite only"; \
	fi

test-sqlite: venv
	@echo "== test suite on SQLite"
	env -u DATABASE_URL $(VENV)/bin/pytest -q -n 2

test-postgres: venv
	@echo "== test suite on PostgreSQL"
	DATABASE_URL=$${DATABASE_URL:-$(PG_TEST_URL)} $(VENV)/bin/pytest -q -n 2

lint: venv
	$(VENV)/bin/ruff check .

# Benchmarks: results in bench/results/, tables in docs/performance.md. Run on an idle machine.
bench: bench-projects bench-ledger bench-feedback bench-telemetry bench-evm bench-ocds bench-redflags

bench-projects: venv
	$(PY) bench/projects_bench.py --db sqlite --db postgres

bench-ledger: venv
	$(PY) bench/ledger_bench.py --db postgres
	$(PY) bench/ledger_bench.py --db sqlite

bench-feedback: venv
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/minsheng_feedback_bench $(PY) bench/feedback_bench.py \
		--requests 1000000 --out bench/results/feedback-1m-pg.json
	$(PY) bench/feedback_http_bench.py --seconds 20 --clients 16 --out bench/results/feedback-http-pg.json

bench-telemetry: venv
	$(PY) bench/telemetry_bench.py --db postgres --db sqlite --messages 20000 --batch-size 1000

bench-evm: venv
	$(PY) bench/evm_bench.py --db sqlite --db postgres

bench-ocds: venv
	$(PY) bench/ocds_bench.py --db postgres

bench-redflags: venv
	$(PY) bench/redflags_bench.py --db postgres

messages: venv
	cd minsheng && ../$(VENV)/bin/minsheng makemessages -l en --no-obsolete --ignore "static/*" && ../$(VENV)/bin/minsheng compilemessages

clean:
	rm -rf $(VENV) .tools node_modules minsheng/static/vendor var
