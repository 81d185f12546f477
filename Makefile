# GVR Case Manager. `make run` and `make test` are all a newcomer needs (Python 3.11+ and git).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install install-dev assets migrate seed lint audit format check serve worker beat db-stop bench clean messages

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed assets
install-dev: $(VENV)/.installed-dev assets

assets: $(VENV)/bin/python
	$(PY) -m gvr_site.assets

migrate: install
	$(PY) manage.py migrate --no-input

seed: migrate
	$(PY) manage.py seed_demo

## Set up everything, load the demo data and serve on http://127.0.0.1:8000
run: seed
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(PY) manage.py runserver $(HOST):$(PORT)

## The whole test suite (embedded PostgreSQL unless DATABASE_URL is set)
test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/bandit -q -r gvr_site interventions metrics manage.py --severity-level medium

## Known vulnerabilities in the pinned requirements (needs the network)
audit: install-dev
	$(PY) .ci/pip_audit.py

format: install-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

check: install-dev
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

## Production-style serving: gunicorn + whitenoise, with a Celery worker and beat beside it.
## Migrates as DATABASE_OWNER_URL (when set), then refuses to serve as a superuser or owner role.
serve: install
	DEBUG=$${DEBUG:-0} $(PY) manage.py collectstatic --no-input
	DATABASE_URL=$${DATABASE_OWNER_URL:-$$DATABASE_URL} DEBUG=$${DEBUG:-0} $(PY) manage.py migrate --no-input
	DEBUG=$${DEBUG:-0} $(PY) manage.py check_db_role
	DEBUG=$${DEBUG:-0} $(VENV)/bin/celery -A gvr_site worker --loglevel=INFO & \
	DEBUG=$${DEBUG:-0} $(VENV)/bin/celery -A gvr_site beat --loglevel=INFO & \
	DEBUG=$${DEBUG:-0} $(VENV)/bin/gunicorn gvr_site.wsgi --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-3}; \
	kill %1 %2 2>/dev/null || true

bench: install-dev
	set -e; for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script; done

## Spanish: collect every marked string into locale/es/LC_MESSAGES/django.po (makemessages needs
## GNU gettext: apt-get install gettext), fill untranslated entries from translated parts given as
## PARTS="a.po b.po", then compile django.mo with polib. Commit both files (docs/translation.md).
MESSAGES_IGNORE := --ignore=.venv --ignore=static_vendor --ignore=staticfiles --ignore='static/*' \
	--ignore=bench --ignore=tests --ignore=.pgdata
messages: install-dev
	$(PY) manage.py makemessages -l es $(MESSAGES_IGNORE) --no-location --extension=html,txt,py,js
	$(PY) locale/catalogue.py tidy
	$(if $(PARTS),$(PY) locale/catalogue.py merge $(PARTS))
	$(PY) locale/catalogue.py compile

## Stop the embedded PostgreSQL server (it keeps running between commands otherwise)
db-stop:
	$(PY) -m gvr_site.database stop

clean:
	rm -rf $(VENV) static_vendor staticfiles .pytest_cache .ruff_cache
