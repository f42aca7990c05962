# Flowport developer commands. `make run` is all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := portal/web/static/vendor

FLOWPORT_PORT ?= 8000
FLOWPORT_DATA_DIR ?= data
PYTEST_WORKERS ?= 2

.PHONY: install run test bench clean

install: $(STAMP)

# Re-runs only when the dependency files change, so it is cheap to call from every target.
$(STAMP): pyproject.toml package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	touch $(STAMP)

run: install
	FLOWPORT_ENV=$${FLOWPORT_ENV:-development} \
	FLOWPORT_PORT=$(FLOWPORT_PORT) FLOWPORT_DATA_DIR=$(FLOWPORT_DATA_DIR) \
	FLOWPORT_CATALOG_PATHS=$${FLOWPORT_CATALOG_PATHS:-catalog} \
	FLOWPORT_TEMPLATE_PATHS=$${FLOWPORT_TEMPLATE_PATHS:-templates} \
	$(BIN)/flowport serve

test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules $(VENDOR) dist build data
