# PhysioTrack developer commands. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install migrate seed lint typecheck migrations-check schema schema-check \
        rules-doc rules-doc-check check-deploy fuzz audit bench bench-quick bench-workers bench-audit chaos chaos-flood ci \
        clean screens

$(STAMP): pyproject.toml requirements/constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c requirements/constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## run: API on http://$(HOST):$(PORT) with a Celery worker and beat (SQLite + file broker
## unless DATABASE_URL / CELERY_BROKER_URL are set). Ctrl-C stops all three.
run: export DJANGO_DEBUG ?= 1
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  Console:               http://$(HOST):$(PORT)/console/ (sign in with a clinician or admin login above)"
	@echo "  API docs (Swagger UI): http://$(HOST):$(PORT)/api/docs/"
	@echo "  ReDoc:                 http://$(HOST):$(PORT)/api/redoc/"
	@echo "  OpenAPI schema:        http://$(HOST):$(PORT)/api/schema/"
	@echo "  Health:                http://$(HOST):$(PORT)/health/"
	@echo "  Sign in: POST http://$(HOST):$(PORT)/api/v1/auth/token/ with a login above"
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho --procfile Procfile.dev start

## test: the whole suite. Without DATABASE_URL etc. it runs on SQLite and skips the
## PostgreSQL/Redis/worker tests with a reason; .ci/run sets them so nothing is skipped.
test: $(STAMP)
	$(BIN)/pytest

## screens: the console's browser tests, which write a screenshot of each page at desktop
## (1280 px) and tablet (768 px) width under .run/screens/ (needs Debian's chromium).
screens: $(STAMP)
	PHYSIOTRACK_REQUIRE_BROWSER=1 $(BIN)/pytest tests/console -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy backend config tests tools fuzz

migrations-check: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings_test $(BIN)/python manage.py makemigrations --check --dry-run

## schema: generated on SQLite whatever DATABASE_URL says: integer bounds of model fields
## differ per database, and the committed contract must not.
schema: $(STAMP)
	env -u DATABASE_URL DJANGO_SETTINGS_MODULE=config.settings_test $(BIN)/python manage.py spectacular \
		--validate --fail-on-warn --file openapi.yaml

## schema-check: fails when the committed openapi.yaml differs from what the code generates.
schema-check: $(STAMP)
	@tmp=$$(mktemp); \
	env -u DATABASE_URL DJANGO_SETTINGS_MODULE=config.settings_test $(BIN)/python manage.py spectacular \
		--validate --fail-on-warn --file $$tmp && \
	if diff -u openapi.yaml $$tmp; then echo "openapi.yaml is up to date"; \
	else echo "openapi.yaml is stale: run 'make schema' and commit it"; rm -f $$tmp; exit 1; fi; \
	rm -f $$tmp

## rules-doc: docs/rules.md from the rule catalogue (backend/alerts/rules/catalogue.py).
rules-doc: $(STAMP)
	env -u DATABASE_URL DJANGO_SETTINGS_MODULE=config.settings_test $(BIN)/python manage.py rules_doc \
		--file docs/rules.md

## rules-doc-check: fails when the committed docs/rules.md differs from the catalogue.
rules-doc-check: $(STAMP)
	@tmp=$$(mktemp); \
	env -u DATABASE_URL DJANGO_SETTINGS_MODULE=config.settings_test $(BIN)/python manage.py rules_doc \
		--file $$tmp && \
	if diff -u docs/rules.md $$tmp; then echo "docs/rules.md is up to date"; \
	else echo "docs/rules.md is stale: run 'make rules-doc' and commit it"; rm -f $$tmp; exit 1; fi; \
	rm -f $$tmp

## check-deploy: Django's deployment checklist with production-like variables (the Redis URLs
## are only read: nothing connects).
check-deploy: $(STAMP)
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	DJANGO_ALLOWED_HOSTS=api.physiotrack.example \
	FCM_PROJECT_ID=physiotrack-example FCM_CREDENTIALS_FILE=/run/secrets/fcm.json \
	CACHE_URL=redis://redis.internal:6379/1 CELERY_BROKER_URL=redis://redis.internal:6379/0 \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

## fuzz: schemathesis against the live app (gunicorn, DEBUG off, its own database seeded with
## the demo clinic) and the committed openapi.yaml, as a patient and as a clinician (3-4 min).
## Needs Redis (databases 2 and 3 of 127.0.0.1:6379, emptied; FUZZ_CACHE_URL/FUZZ_BROKER_URL).
fuzz: $(STAMP)
	$(BIN)/python -m fuzz.run

## audit: known vulnerabilities in the pinned requirements/constraints.txt (pip-audit with
## PyPI's advisory data). Fails when a package could not be looked up, unless
## AUDIT_FLAGS=--allow-unaudited (then it warns and names them).
audit: $(STAMP)
	$(BIN)/python -m tools.audit $(AUDIT_FLAGS)

## bench: every scenario of docs/benchmarks.md on PostgreSQL and Redis (about 15 minutes);
## bench-quick: the same, smaller (under 3 minutes); bench-workers: only the comparison of
## gunicorn worker models that chose config/gunicorn.py. All install wrk if it is missing.
bench bench-quick bench-workers: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) \
		|| (echo "install wrk (apt-get install wrk)"; exit 1)
	$(BIN)/python -m bench.run $(if $(filter bench-quick,$@),--quick,) \
		$(if $(filter bench-workers,$@),--only worker_models,)

## bench-audit: the audit list's first and 100th page on 10,000,000 events over 24 months,
## plain and then partitioned by month (about 10 minutes; its own database).
bench-audit: $(STAMP)
	$(BIN)/python -m bench.audit_partitions --events 10000000 --months 24 --repeat 15

## chaos: the mobile scenario while workers are killed and Redis restarted, then proof that
## nothing was lost or duplicated (about 4 minutes; not in CI). CHAOS_ARGS="--minutes 10" etc.
chaos: $(STAMP)
	@command -v redis-server >/dev/null || (echo "make chaos starts its own redis-server: install it"; exit 1)
	$(BIN)/python -m bench.chaos $(CHAOS_ARGS)
	$(BIN)/python -m bench.flood $(FLOOD_ARGS)

## chaos-flood: one patient floods sessions/sync/ with red-flag batches while the others log
## as usual (production throttles): the others are served, the flooder gets 429, the care team
## one coalesced alert per tier (about 2 minutes; not in CI). FLOOD_ARGS="--seconds 120" etc.
chaos-flood: $(STAMP)
	@command -v redis-server >/dev/null || (echo "make chaos-flood starts its own redis-server: install it"; exit 1)
	$(BIN)/python -m bench.flood $(FLOOD_ARGS)

ci: test lint typecheck migrations-check schema-check rules-doc-check check-deploy audit

clean:
	rm -rf $(VENV) .run db.sqlite3 db.sqlite3-* staticfiles .pytest_cache .mypy_cache .ruff_cache
