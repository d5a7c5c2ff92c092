# Workbench: `make run` sets everything up and starts JupyterLab with Workbench;
# `make test` runs the whole suite (SQLite, then PostgreSQL, browser tests in Chromium).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8888
export WORKBENCH_HOME ?= $(HOME)/.workbench
NOTEBOOKS ?= $(WORKBENCH_HOME)/notebooks
# Tests need Debian's PostgreSQL, Chromium and a Docker engine (kernel containers, images built
# offline with debootstrap); installed when missing and we may (root + apt).
SYSTEM_PACKAGES := postgresql chromium fonts-dejavu-core docker.io debootstrap
LAB_SOURCES := $(shell find labextension/src labextension/style -type f 2>/dev/null) labextension/package.json

.PHONY: run test test-sqlite test-postgres bench lint types types-check system-deps install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The project, editable, with its labextension built by the wheel's build hook.
$(VENV)/.installed: $(BIN)/python pyproject.toml $(LAB_SOURCES)
	rm -rf server_extension/workbench_server/labextension
	$(BIN)/python -m pip install -q -e ".[test,postgres,bench]"
	touch $@

install: $(VENV)/.installed

run: install
	mkdir -p "$(NOTEBOOKS)"
	cp -n examples/*.ipynb "$(NOTEBOOKS)/" 2>/dev/null || true
	$(BIN)/workbench db upgrade  # a database from an older checkout gets the new tables (the server refuses old ones)
	$(BIN)/workbench demo
	$(BIN)/jupyter lab --ip 127.0.0.1 --port $(PORT) --no-browser --ServerApp.root_dir="$(NOTEBOOKS)" \
		$$( [ "$$(id -u)" = 0 ] && echo --allow-root )

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing$$missing from Debian"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else echo "Not installed:$$missing (tests that need them will skip)"; fi; \
	fi

test: system-deps install types-check test-sqlite test-postgres

test-sqlite: install
	@tools/dockerd.sh start >/dev/null || echo "No Docker engine: container tests will skip"
	$(BIN)/python -m pytest -p no:cacheprovider

# The whole suite again on a throwaway PostgreSQL (browser and container tests, which do not
# touch the database, ran once already; the multi-user server's do, so they run again).
test-postgres: install
	@tools/dockerd.sh start >/dev/null || echo "No Docker engine: container tests will skip"
	@url=$$(tools/postgres.sh start) || { echo "PostgreSQL not installed: skipping the PostgreSQL run"; exit 0; }; \
	trap 'tools/postgres.sh stop' EXIT; \
	WORKBENCH_TEST_PG_URL=$$url $(BIN)/python -m pytest -p no:cacheprovider -m "not browser and (not docker or multi_user)"

bench: install
	$(BIN)/python benchmarks/tracking.py
	$(BIN)/python benchmarks/compare.py --browser
	@tools/dockerd.sh start >/dev/null
	$(BIN)/python benchmarks/kernels.py

# TypeScript types of the panel come from the Python models; CI fails when they are stale.
types: install
	mkdir -p .tmp && $(BIN)/python -c 'import json, workbench.models as m; print(json.dumps(m.panel_json_schema(), indent=2, sort_keys=True))' > .tmp/models.schema.json
	cd labextension && npm run types -- ../.tmp/models.schema.json

types-check: install
	mkdir -p .tmp && $(BIN)/python -c 'import json, workbench.models as m; print(json.dumps(m.panel_json_schema(), indent=2, sort_keys=True))' > .tmp/models.schema.json
	cd labextension && npm run types:check -- ../.tmp/models.schema.json

lint: install
	$(BIN)/python -m ruff check workbench server_extension kernels tests benchmarks
	cd labextension && npm run typecheck

clean:
	rm -rf $(VENV) labextension/node_modules labextension/lib server_extension/workbench_server/labextension .tmp
