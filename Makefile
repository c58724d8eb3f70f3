# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The demo runs on embedded defaults whatever the shell exports: SQLite in var/, and a Celery broker that needs no
# server (kombu's filesystem transport, in var/broker/) for the worker and beat that `rundemo` starts.
# Webhooks may reach a receiver on this machine (OUTBOUND_ALLOW_PRIVATE_ADDRESSES; never in production).
DEMO_ENV := DATABASE_URL=sqlite:///$(CURDIR)/var/demo.sqlite3 DJANGO_DEBUG=1 CELERY_BROKER_URL=filesystem:// \
	OUTBOUND_ALLOW_PRIVATE_ADDRESSES=1

.PHONY: venv demo test lint format benchmark benchmark-api benchmark-reminders benchmark-reset benchmark-submit clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	mkdir -p var
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed --demo
	@echo
	@echo "The demo zone is at http://127.0.0.1:8000/admin/ (staff) and http://127.0.0.1:8000/portal/ (enterprises, e.g. ent0001)"
	@echo "— log in with one of the accounts above. Ctrl-C stops it."
	@echo "The API and its docs: http://127.0.0.1:8000/api/docs/ "
	@echo "  a token for it: DATABASE_URL=sqlite:///$(CURDIR)/var/demo.sqlite3 $(BIN)/python manage.py create_api_token ent0001"
	$(DEMO_ENV) $(BIN)/python manage.py rundemo 127.0.0.1:8000

test: venv
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

benchmark: venv
	$(BIN)/python bench/workbench.py

# A password reset for a registered and for an unknown address: the same work, the same time (bench/password_reset.py).
benchmark-reset: venv
	$(BIN)/python bench/password_reset.py

# The REST API under gunicorn with concurrent clients; PostgreSQL tracker_bench10, zone x10 (see bench/api.py).
benchmark-api: venv
	$(BIN)/python bench/api.py

# Submitting cases with 1, 2, 4 and 8 clients, the former row-locked numbering against the sequence, on PostgreSQL
# tracker_bench_submit (zone x1, created and seeded on the first run); see bench/submit.py.
benchmark-submit: venv
	$(BIN)/python bench/submit.py

# The reminder sweep over the demo zone x10 and x100 on PostgreSQL (tracker_bench_rem10 and tracker_bench_rem100,
# created and seeded on the first run: x100 takes about 10 minutes); see bench/reminders.py.
benchmark-reminders: venv
	$(BIN)/python bench/reminders.py --scale 10
	$(BIN)/python bench/reminders.py --scale 100 --runs 1

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# Refresh the English catalogue after adding or changing user-facing strings; then translate every empty or
# fuzzy entry in tracker/locale/en/LC_MESSAGES/django.po and run this again (see tracker/locale/README.md).
messages: venv
	$(BIN)/python manage.py makemessages -l en --ignore=.venv --ignore=var --ignore=test-artifacts --ignore=tests \
		--add-location=file --no-obsolete
	$(BIN)/python manage.py compilemessages -l en --ignore=.venv
