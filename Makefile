# Every target bootstraps .venv by itself on a machine with python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEMO_DB ?= sqlite:///$(CURDIR)/var/demo.db
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench i18n clean

$(STAMP): pyproject.toml host/pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./host -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p var
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host db upgrade
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host demo seed
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host serve --port $(PORT) --demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check ctm_plugin host tests benchmarks
	$(BIN)/python -m pytest -q tests/test_catalogs.py host/tests/test_catalogs.py

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Re-extract the .pot files, merge them into the catalogs, compile the .mo files.
i18n: $(STAMP)
	$(BIN)/pybabel extract -F pyproject.toml --no-location --omit-header -k N_ -o ctm_plugin/i18n/ctm_plugin.pot .
	$(BIN)/pybabel update -D ctm_plugin -i ctm_plugin/i18n/ctm_plugin.pot -d ctm_plugin/i18n --no-location --omit-header
	$(BIN)/pybabel compile -D ctm_plugin -d ctm_plugin/i18n --statistics
	cd host && ../$(BIN)/pybabel extract -F pyproject.toml --no-location --omit-header -k N_ -o mimosa_host/i18n/mimosa_host.pot .
	$(BIN)/pybabel update -D mimosa_host -i host/mimosa_host/i18n/mimosa_host.pot -d host/mimosa_host/i18n --no-location --omit-header
	$(BIN)/pybabel compile -D mimosa_host -d host/mimosa_host/i18n --statistics

clean:
	rm -rf $(VENV) var .pytest_cache
