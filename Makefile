# Two commands on a fresh Debian machine:
#   make demo   builds the example editions into build/ (EPUB and PDF)
#   make test   runs the whole test suite
# Both install what they need: Debian packages, a virtual environment in .venv and broadsheet.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install system-deps clean

demo: install
	$(BIN)/broadsheet build examples/zhengzhou-daily examples/harbour-gazette --out build

test: install
	$(BIN)/python -m pytest -q -n 2

install: system-deps $(STAMP)
	@$(BIN)/python -m compileall -q src  # bytecode once, for every run (even with PYTHONDONTWRITEBYTECODE)

system-deps:
	@bash scripts/install-system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf build/*.epub build/*.pdf build/*.html build/.broadsheet-cache .pytest_cache
