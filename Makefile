# The two commands a newcomer needs:  make run   and   make test
# Everything else here is what those two do, step by step.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export TRAINER_ENV ?= development

.PHONY: run test venv demo lint translations clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "trainer needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

## make run: install, create/upgrade the SQLite database with demo content and accounts, serve
run: venv
	$(BIN)/trainer demo
	$(BIN)/trainer run --host $(HOST) --port $(PORT)

demo: venv
	$(BIN)/trainer demo

## make test: the whole suite (SQLite by default; set TRAINER_TEST_DATABASE_URL for PostgreSQL)
test: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check trainer tests bench
	$(BIN)/mypy

translations: venv
	$(BIN)/python trainer/translations/update.py

clean:
	rm -rf $(VENV) instance .pytest_cache
