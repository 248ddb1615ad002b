# Two commands for a newcomer: `make run` and `make test`. Everything else is installed here.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run API_PORT=8001 REDIRECT_PORT=8081 HOST=0.0.0.0` passes them to `qrmint serve`.
HOST ?= 127.0.0.1
API_PORT ?= 8000
REDIRECT_PORT ?= 8080

.PHONY: run test lint typecheck pytest bench fuzz soak install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/qrmint serve --host $(HOST) --api-port $(API_PORT) --redirect-port $(REDIRECT_PORT)

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

# Schemathesis over the whole surface (REST from /openapi.json, GraphQL from introspection),
# random cases, 600 per operation (over 10,000 in all), then the totals.
FUZZ_REPORT := $(CURDIR)/var/fuzz-report.tsv
fuzz: $(STAMP)
	mkdir -p var && rm -f $(FUZZ_REPORT)
	QRMINT_FUZZ_EXAMPLES=600 QRMINT_FUZZ_RANDOM=1 QRMINT_FUZZ_REPORT=$(FUZZ_REPORT) \
		$(BIN)/python -m pytest -q -s tests/qrmint/test_fuzz.py
	awk -F'\t' '{c+=$$2; e+=$$3; p+=$$4} END {printf "make fuzz: %d cases, %d server errors, %d shape problems\n", c, e, p}' $(FUZZ_REPORT)

# Mixed load on `serve` and on the split shape, one report line a minute (SOAK_MINUTES=30).
SOAK_MINUTES ?= 30
soak: $(STAMP)
	SOAK_MINUTES=$(SOAK_MINUTES) $(BIN)/python -m bench.soak $(SOAK_SHAPES)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
