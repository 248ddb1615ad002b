# Two commands for a newcomer: `make run` and `make test`. Everything else is installed here.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench soak install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/qrmint serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m bench

# Mixed load on `serve` and on the split shape, one report line a minute (SOAK_MINUTES=30).
SOAK_MINUTES ?= 30
soak: $(STAMP)
	SOAK_MINUTES=$(SOAK_MINUTES) $(BIN)/python -m bench.soak $(SOAK_SHAPES)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
