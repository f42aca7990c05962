# Flowport developer commands. `make run` is all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := portal/web/static/vendor

FLOWPORT_PORT ?= 8000
FLOWPORT_DATA_DIR ?= data
PYTEST_WORKERS ?= 2
DEMO_DATA ?= yes

.PHONY: install run test bench sbom audit clean

install: $(STAMP)

# Re-runs only when the dependency files change, so it is cheap to call from every target.
$(STAMP): pyproject.toml package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/swagger-ui
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/swagger-ui/
	touch $(STAMP)

# `make run` seeds the demo flow data and requests for the charts (docs/demo.md) unless some are there
# already, so a restart stays quick; `make run DEMO_DATA=no` starts without them.
run: install
	if [ "$(DEMO_DATA)" != no ]; then FLOWPORT_DATA_DIR=$(FLOWPORT_DATA_DIR) \
	FLOWPORT_CATALOG_PATHS=$${FLOWPORT_CATALOG_PATHS:-catalog} \
	FLOWPORT_TEMPLATE_PATHS=$${FLOWPORT_TEMPLATE_PATHS:-templates} \
	$(BIN)/flowport demo --keep-existing; fi
	FLOWPORT_ENV=$${FLOWPORT_ENV:-development} \
	FLOWPORT_PORT=$(FLOWPORT_PORT) FLOWPORT_DATA_DIR=$(FLOWPORT_DATA_DIR) \
	FLOWPORT_CATALOG_PATHS=$${FLOWPORT_CATALOG_PATHS:-catalog} \
	FLOWPORT_TEMPLATE_PATHS=$${FLOWPORT_TEMPLATE_PATHS:-templates} \
	$(BIN)/flowport serve

test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

# A CycloneDX SBOM of what `make install` installed (Python environment and npm packages), for any
# scanner that reads CycloneDX; the generator runs from its own pinned environment so that its
# dependencies do not end up in the SBOM it writes.
SBOM_VENV := .venv-sbom
SBOM := build/sbom.cdx.json
sbom: install
	test -x $(SBOM_VENV)/bin/cyclonedx-py || { $(PYTHON) -m venv $(SBOM_VENV) && \
	  $(SBOM_VENV)/bin/python -m pip install --quiet --no-deps -r tools/sbom-requirements.txt; }
	mkdir -p build
	$(SBOM_VENV)/bin/cyclonedx-py environment --pyproject pyproject.toml --output-reproducible \
	  --of JSON -o $(SBOM) $(VENV)
	$(BIN)/python -m tools.sbom_npm $(SBOM) package-lock.json

# Audits the SBOM against OSV advisories (a folder or zip, FLOWPORT_ADVISORY_DB); see docs/security.md.
audit: sbom
	@if [ -n "$$FLOWPORT_ADVISORY_DB" ]; then \
	  $(BIN)/python -m tools.dependency_audit $(SBOM) "$$FLOWPORT_ADVISORY_DB"; \
	else \
	  echo "dependency audit: FLOWPORT_ADVISORY_DB is not set, so $(SBOM) was written but not scanned"; \
	fi

clean:
	rm -rf $(VENV) $(SBOM_VENV) node_modules $(VENDOR) dist build data
