# Two commands for a fresh machine with Python >= 3.12 and git:
#   make run   set up a virtualenv, migrate, load demo data, start web + worker + beat
#   make test  run the whole test suite
.DEFAULT_GOAL := help
SHELL := /bin/bash

# The first interpreter >= 3.12 found (pyenv shims for absent versions fail the probe).
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; \
	then echo $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
MO := locale/zh_Hans/LC_MESSAGES/django.mo

.PHONY: help setup run test demo-users lint messages bench bench-smoke clean

help:
	@echo "make run    set up and start the app at http://127.0.0.1:8000 (embedded default, demo data)"
	@echo "make test   run the whole test suite"

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
		echo "Python >= 3.12 is required (Django 6). Install python3.12 or python3.13, e.g. 'apt-get install python3.12' or 'pyenv install 3.12', then run make again." >&2; \
		exit 1; fi
	@echo "Using $$($(PYTHON) --version) from $$(command -v $(PYTHON))"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(MO): locale/zh_Hans/LC_MESSAGES/django.po $(STAMP)
	$(BIN)/python manage.py compile_translations

setup: $(STAMP) $(MO)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py load_demo_claims
	$(BIN)/python manage.py load_demo_finance
	$(BIN)/python manage.py load_demo_supervision
	$(BIN)/python manage.py collectstatic --noinput -v0

run: setup
	@$(BIN)/python manage.py demo_credentials
	@echo "Starting web (http://127.0.0.1:8000), Celery worker and beat on the embedded default. Ctrl-C stops all three."
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile start

# The suite in two runs: everything but the real-service and browser tests spread over one
# process per CPU (pytest-xdist; each process has its own test database and media folder),
# then those two kinds in one process (a real Celery worker takes whatever task is queued, so
# two processes' workers would take each other's).
TEST_PROCESSES ?= auto
test: $(STAMP) $(MO)
	DJANGO_SETTINGS_MODULE=insurance_admin.settings.test $(BIN)/python -m pytest -n $(TEST_PROCESSES) -m "not services and not browser"
	DJANGO_SETTINGS_MODULE=insurance_admin.settings.test $(BIN)/python -m pytest -m "services or browser"

# Every script under bench/ at a toy size (figures printed, not asserted); PostgreSQL scripts
# too when DATABASE_URL points at a PostgreSQL server (each uses a throw-away database).
bench-smoke: $(STAMP)
	$(BIN)/python bench/smoke.py

lint: $(STAMP)
	$(BIN)/ruff check .

messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles --ignore=var
	$(BIN)/python manage.py compile_translations

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
