# Everyday commands. `make run` and `make test` are the README's quick start.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The launcher of `make run` and `make test`: starts PostgreSQL and Redis from wheels unless
# configured.
DEV := $(PY) scripts/dev.py
# `make test` and `make fuzz`: the servers DATABASE_URL/REDIS_URL name (the suite creates its
# own databases there and writes Redis keys under a prefix of its own session only), else
# embedded ones in a temporary directory, deleted when the command ends.
TEST := SECRET_KEY=$${SECRET_KEY:-test-only-secret-key} $(DEV) test --
# mypy's Django plugin imports config.settings, which needs these set; nothing connects to them.
TYPECHECK_ENV := DATABASE_URL=postgres://x@127.0.0.1/x REDIS_URL=redis://127.0.0.1:6379/0 \
	SECRET_KEY=typecheck-only

.PHONY: help install run test lint typecheck format check seed migrate manage superuser worker \
	bench fuzz clean
.DEFAULT_GOAL := help

help:  ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' \
		| awk -F '\t' '{ printf "  make %-10s %s\n", $$1, $$2 }'

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev,embedded]"
	touch $@

install: $(VENV)/.installed  ## the virtualenv in .venv, with the dev and embedded extras

run: install  ## API on http://127.0.0.1:$(PORT), a Celery worker and beat (embedded servers)
	PORT=$(PORT) $(DEV) run

# Coverage is measured on every run and fails under pyproject's fail_under (CI runs this).
test: install  ## the whole suite with coverage, on servers of its own unless configured
	$(TEST) $(PY) -m pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

lint: install  ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@$(MAKE) --no-print-directory typecheck

typecheck: install  ## mypy with the Django and DRF plugins over storefront/ and config/
	$(TYPECHECK_ENV) $(VENV)/bin/mypy storefront config

format: install  ## ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: lint test  ## lint, then the whole suite

# These use DATABASE_URL/REDIS_URL, else the embedded servers of `make run` (started for the
# command's duration if `make run` is not up), with DEBUG on unless DEBUG says otherwise.
migrate: install  ## apply migrations (configured or embedded servers)
	$(DEV) exec -- $(PY) manage.py migrate

manage: install  ## any manage.py command on the same servers: ARGS="createsuperuser"
	$(DEV) exec -- $(PY) manage.py $(ARGS)

superuser: install  ## a Django admin user of your own (asks its name and password)
	$(DEV) exec -- $(PY) manage.py createsuperuser $(ARGS)

seed: install  ## sample data; SEED_ARGS="--reset --products 100000"
	$(DEV) exec -- $(PY) manage.py seed_data --base-url http://127.0.0.1:$(PORT) $(SEED_ARGS)

worker: install  ## a Celery worker with beat
	$(DEV) exec -- $(VENV)/bin/celery -A config worker --beat --loglevel=INFO \
		--schedule $${STOREFRONT_VAR_DIR:-var}/celerybeat-schedule

# The bench extra (Typesense) is installed for the bench only, never by `make install`.
$(VENV)/.bench-installed: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet -e ".[dev,embedded,bench]"
	touch $@

bench: $(VENV)/.bench-installed  ## load benchmarks, Typesense side by side, see bench/README.md
	$(PY) bench/run.py $(BENCH_ARGS)

fuzz: install  ## schemathesis against a live server, see docs/reliability.md
	$(TEST) bash scripts/fuzz.sh

clean:  ## delete var/ (the embedded servers' data) and the tool caches
	rm -rf var .pytest_cache .ruff_cache .mypy_cache
