# Stock Ticker: `make run` starts everything, `make test` proves it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs what running needs; `make test` (and lint, bench) adds the test tools.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed-dev

.PHONY: run test lint format bench servers password vendor constraints clean

$(RUN_STAMP): requirements.txt requirements-local.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-local.txt
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/python -m devstack run

servers: $(RUN_STAMP)
	$(BIN)/python -m devstack servers

# The hash for AUTH_PASSWORD_HASH: asks for the password twice, prints the line for .env.
password: $(RUN_STAMP)
	@$(BIN)/python -m app.access hash-password

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Two test processes, each with its own servers, a file's tests together in one (17 min from a
# fresh clone instead of 28; TEST_WORKERS=0 for one). Then the tests marked `alone` (they time the
# whole machine), nothing beside them.
TEST_WORKERS ?= 2
test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not alone"
	$(BIN)/python -m pytest -m alone

bench: $(STAMP)
	$(BIN)/python -m bench

vendor:
	frontend/vendor/refresh.sh

# Exact versions of everything the Docker image installs, from a clean venv of requirements.txt.
constraints:
	rm -rf .constraints-venv && $(PYTHON) -m venv .constraints-venv
	.constraints-venv/bin/pip install --quiet -r requirements.txt
	{ echo "# Every package the image installs, exact versions (regenerate: make constraints)"; \
	  .constraints-venv/bin/pip freeze; } > constraints.txt
	rm -rf .constraints-venv

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
