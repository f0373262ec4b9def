# make run  — set up everything (venv, install, database, demo round) and start the web app
# make test — set up with the test extras and run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: run test install install-test demo bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/matcher init-db
	$(BIN)/matcher demo load

run: demo
	$(BIN)/python -m web --port $(PORT)

test: install-test
	$(BIN)/python -m pytest

screenshots: install-test
	MATCHER_SCREENSHOTS=1 $(BIN)/python -m pytest tests/test_browser.py tests/test_browser_mobile.py -q

bench: install
	$(BIN)/python bench/bench_scoring.py
	$(BIN)/python bench/bench_solver.py

clean:
	rm -rf $(VENV) instance build *.egg-info
