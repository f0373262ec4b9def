# make run  — set up everything (venv, install, database migrated to the newest revision, demo round) and start the web app
#            with its job worker (matcher worker) beside it
# make test — set up with the test extras and run the suite but the tests marked slow, in parallel
# make test-slow — the tests marked slow (.ci/run runs both)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: run test test-slow test-postgres install install-test demo bench screenshots messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,postgres]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/matcher db upgrade
	$(BIN)/matcher demo load --if-changed

# the job runner in its own process beside the web server (docs/operations.md); both stop together
run: demo
	MATCHER_JOBS=worker $(BIN)/matcher worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	MATCHER_JOBS=worker $(BIN)/python -m web --port $(PORT)

test: install-test
	$(BIN)/python -m pytest -n auto -m "not slow"

test-slow: install-test
	$(BIN)/python -m pytest -n auto -m slow

# the database-backed tests on a throwaway PostgreSQL cluster (Debian's package; port PG_PORT, default 55432)
test-postgres: install-test
	d=$$(mktemp -d /tmp/matcher-pg.XXXXXX); \
	url=$$(.ci/postgres start $$d $${PG_PORT:-55432}) && \
	TEST_DATABASE_URL=$$url $(BIN)/python -m pytest -n auto -m "db and not browser"; rc=$$?; \
	.ci/postgres stop $$d; rm -rf $$d; exit $$rc

screenshots: install-test
	MATCHER_SCREENSHOTS=1 $(BIN)/python -m pytest tests/test_browser.py tests/test_browser_mobile.py tests/test_browser_program.py -q

bench: install
	$(BIN)/python bench/bench_scoring.py
	$(BIN)/python bench/bench_solver.py

# the message catalogs against the source: extract every code, list those without a Korean or English text, compile
messages: install-test
	mkdir -p build
	$(BIN)/pybabel -q extract -F babel.cfg --no-default-keywords -k msg -k N_ -k t -k _ --sort-output -o build/matcher.pot .
	$(BIN)/python -m matcher.messages.catalog check build/matcher.pot
	$(BIN)/pybabel -q compile -d matcher/messages/locale -D matcher

clean:
	rm -rf $(VENV) instance build *.egg-info
