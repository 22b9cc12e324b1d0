# Two commands set up everything: `make run` (the demo) and `make test` (the suite).
# The virtual environment is built from uv.lock with uv, itself installed into .tools/.

SHELL := /bin/bash
UV_VERSION := 0.13.9
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

.PHONY: run test test-sqlite test-postgres lint format typecheck bench setup lock clean messages

setup: $(VENV)/.synced .env messages

# German translations: .po files compiled to .mo (only where the .po is newer).
messages: $(VENV)/.synced
	@$(BIN)/python -m stadtbote.lib.catalogs src/stadtbote/locale

# Find Python only when something has to be built, so a ready checkout needs none.
$(UV):
	@py=$$(scripts/find-python) || exit 1; \
	echo "Using $$py"; \
	$$py -m venv $(TOOLS) && $(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	@py=$$(scripts/find-python) || exit 1; \
	$(UV) sync --frozen --python "$$py"
	@touch $@

.env:
	@$(BIN)/python scripts/make-env > .env
	@echo "Wrote .env with fresh secret keys (keep it private)."

lock: | $(UV)
	$(UV) lock --python "$$(scripts/find-python)"

run: setup
	$(BIN)/stadtbote demo

# The whole suite on SQLite, then the database tests again on PostgreSQL + Redis.
# Without those servers the second run skips with the reason; STADTBOTE_STRICT=1 makes it fail.
test: setup
	@scripts/ensure-chromium
	@scripts/ensure-node-tools
	$(BIN)/pytest -q
	STADTBOTE_TEST_BACKEND=postgres $(BIN)/pytest -q

test-sqlite: setup
	$(BIN)/pytest -q

test-postgres: setup
	STADTBOTE_TEST_BACKEND=postgres $(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: setup
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
