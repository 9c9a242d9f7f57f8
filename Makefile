# The README's commands. Each creates .venv (unless a virtual environment is active), installs
# the project into it, and is safe to run again.
SHELL := /bin/bash
PY_BOOT ?= python3
ifdef VIRTUAL_ENV
  VENV := $(VIRTUAL_ENV)
else
  VENV := $(CURDIR)/.venv
endif
BIN := $(VENV)/bin
STAMP := $(VENV)/.redclump-installed
WORKDIR ?= .redclump

.PHONY: setup app test bench screenshots lint clean

$(BIN)/python:
	$(PY_BOOT) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# setuptools notes on every editable install that a folder named like the package may shadow
	@# it; this project maps its folders explicitly (pyproject.toml), so the note is only noise.
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

setup: $(STAMP)

## Build the default mock, train, infer and serve the app on http://127.0.0.1:5006
app: setup
	$(BIN)/redclump serve --workdir $(WORKDIR) --build

## The whole test suite (browser tests need Debian's chromium; .ci/run installs it)
test: setup
	$(BIN)/python -m pytest

## Benchmarks: results go to BENCHMARKS.md
bench: setup
	$(BIN)/python -m pytest -m benchmark tests/benchmarks -p no:cacheprovider -q

## The README's screenshots (docs/img/page-*.png, card.png, compare.png), from the browser tests
screenshots: setup
	REDCLUMP_SCREENSHOTS=$(CURDIR)/docs/img $(BIN)/python -m pytest tests/dashboard/test_browser.py -p no:cacheprovider -q \
		-k "layout_gives_the_view or shows_its_card or compare_numbers_are_not_clipped"

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(WORKDIR)
