# Sportello: `make run` serves the demo, `make test` runs the suite on PostgreSQL.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
SIZE ?= 100000
# `make test` runs the suite in this many processes (pytest-xdist), each on its own test database.
TEST_WORKERS ?= 2

.PHONY: install env run serve messages test test-fast lint format bench drills browsers dovecot clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# A build step: it needs no secret and no database, so it runs with the development settings.
messages: install
	DEBUG=1 $(BIN)/python manage.py compile_translations

# A development .env (git-ignored), written once when missing and never overwritten: DEBUG on and a
# generated SECRET_KEY, so that `.venv/bin/python manage.py ...` works in this checkout as under
# `make run`. A server has none: its variables come from SPORTELLO_ENV_FILE (deploy/README.md).
env: .env

.env:
	@umask 077; key=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(45))') && \
	  printf '# Development settings written by `make env` (git-ignored): never on a server.\nDEBUG=1\nSECRET_KEY=%s\n' "$$key" > $@.tmp && \
	  mv $@.tmp $@
	@echo "env: wrote .env (DEBUG=1 and a generated SECRET_KEY, for development only)"

# The embedded default: SQLite and a filesystem broker unless DATABASE_URL / CELERY_BROKER_URL say otherwise.
run: export DEBUG ?= 1
run: env install messages
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	$(MANAGE) collectstatic --noinput -v0
	@echo "Sportello on http://127.0.0.1:8000 (worker and scheduler in the background; Ctrl-C stops all)"
	@trap 'kill 0' INT TERM EXIT; \
	  $(BIN)/celery -A casework worker --beat --pool=solo -Q celery,mail --loglevel=INFO & \
	  $(MANAGE) runserver 127.0.0.1:8000

test: export DATABASE_URL = $(TEST_DATABASE_URL)
test: install messages browsers dovecot
	$(BIN)/python -m pytest -m "not slow" --create-db -q -n $(TEST_WORKERS) --durations=25 $(PYTEST_ARGS)

# The browser tests drive Debian's Chromium: Playwright's own browser download does not work here.
browsers:
	@if [ -x /usr/bin/chromium ]; then \
	  echo "browsers: /usr/bin/chromium is installed"; \
	elif [ "$$(id -u)" -ne 0 ]; then \
	  echo "browsers: /usr/bin/chromium is missing and installing it needs root; skipped (run: apt-get install chromium), the browser tests will fail without it"; \
	else \
	  echo "browsers: /usr/bin/chromium is missing; installing Debian's chromium package"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

# The mail intake tests talk to a real IMAP server: Debian's Dovecot, started by a fixture
# (tests/mailservers.py) on a free loopback port with a throw-away configuration.
dovecot:
	@if [ -x /usr/sbin/dovecot ]; then \
	  echo "dovecot: /usr/sbin/dovecot is installed"; \
	elif [ "$$(id -u)" -ne 0 ]; then \
	  echo "dovecot: /usr/sbin/dovecot is missing and installing it needs root; skipped (run: apt-get install dovecot-imapd), the IMAP tests will fail without it"; \
	else \
	  echo "dovecot: /usr/sbin/dovecot is missing; installing Debian's dovecot-imapd package"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var/ .hypothesis/

# Benchmarks at SIZE cases (issue 7, see bench/run.py): loads the bench database named
# by BENCH_DATABASE_URL once, measures every scenario, writes bench/results.md and results.json.
# The mail intake scenario reads a throw-away Dovecot, as the tests do.
bench: install dovecot
	$(BIN)/python bench/run.py --size $(SIZE)

# The drills of issue 8 (tests/drills, all marked slow, so `make test` skips them): real gunicorn,
# Celery workers and beat on this machine's PostgreSQL and RabbitMQ, each on a throw-away database.
# The fault drill restarts PostgreSQL (needs root). DRILL_LOAD_SECONDS=300 for the 5-minute load.
drills: install messages
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest -m slow tests/drills -v -s $(PYTEST_ARGS)
