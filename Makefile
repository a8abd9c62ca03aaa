# Two commands for a new user: `make demo` and `make test`. Everything else is set up on the way.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
ELT := $(VENV)/bin/elt
DEMO_START ?= 2024-01-01
DEMO_END ?= 2024-01-07
DEMO_DAYS ?= 7
PYTEST_WORKERS ?= 2
DBT_FILES := $(shell find dbt_project -path dbt_project/target -prune -o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print)

export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False

.PHONY: install demo test bench lint clean docs

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

# The pre-built manifest that Cosmos renders DAGs from (parsing needs no database).
dbt_project/target/manifest.json: $(VENV)/.installed $(DBT_FILES)
	cd dbt_project && ../$(VENV)/bin/dbt parse --quiet --profiles-dir .

install: $(VENV)/.installed dbt_project/target/manifest.json

demo: install
	$(ELT) db start
	$(ELT) generate all --start $(DEMO_START) --days $(DEMO_DAYS)
	$(ELT) backfill all --start $(DEMO_START) --end $(DEMO_END)
	$(MAKE) docs
	$(ELT) report
	@echo
	@echo "Next:"
	@echo "  Airflow UI:  .venv/bin/elt airflow   then open http://localhost:8080"
	@echo "  psql:        .venv/bin/elt db psql   (or: psql \"\$$(.venv/bin/elt db url)\")"
	@echo "  docs:        in the Airflow UI, menu Docs: dbt docs and Data docs (or http://localhost:8080/elt-docs/)"

test: install lint
	$(VENV)/bin/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=15 tests

# Either linter's finding fails `make lint`, and so `make test`.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/sqlfluff lint --disable-progress-bar --processes 2 dbt_project/models dbt_project/macros dbt_project/tests

# The dbt docs (dbt docs generate --static, against the warehouse) and the data docs' assets from the npm registry
# (served locally by the docs plugin: the data docs then work offline; skipped with a warning when npm is missing).
docs: install
	$(VENV)/bin/python -m elt.docs --assets

bench: install
	$(VENV)/bin/python -m elt.bench

clean:
	-$(ELT) db stop
	rm -rf .elt dbt_project/target
