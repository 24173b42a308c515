# Every target bootstraps .venv by itself on a machine with python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The database every `mimosa-host` command uses by default (run from here), so the README's commands
# work on the demo as written.
DEMO_DB ?= sqlite:///$(CURDIR)/var/mimosa.db
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench screenshots i18n clean

$(STAMP): pyproject.toml host/pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./host -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p var
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host db upgrade
	PORT=$(PORT) MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host demo seed
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host ctm demo handover
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host ctm demo reintegration
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host ctm demo cases
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host ctm demo due
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host demo past
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host ctm demo research
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host ctm demo retrafficking
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host ctm demo intelligence
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host ctm demo partners
	@# The production server: gunicorn's workers, and one jobs process beside them (Ctrl-C stops them all).
	MIMOSA_DATABASE_URL=$(DEMO_DB) $(BIN)/mimosa-host serve --port $(PORT) --demo

# The suite runs on every core (pytest-xdist): each worker builds its own template databases and
# its own Chromium. TEST_WORKERS=0 runs it in this process (e.g. to use a debugger). worksteal: a worker
# that has run out of tests takes half of another's, so that no core idles behind a slow file.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check ctm_plugin host tests benchmarks
	$(BIN)/ruff format --check ctm_plugin host tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q tests/test_catalogs.py

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks

# Rewrite the guides' screenshots (docs/screenshots/*.png) from the browser test, on
# SQLite; without CTM_GUIDE_SCREENSHOTS=1 the test writes them under test-artifacts/ instead.
screenshots: $(STAMP)
	CTM_GUIDE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser/test_case_tabs.py tests/browser/test_returns.py \
		tests/browser/test_handing_over.py tests/browser/test_hq_fund.py tests/browser/test_monitoring_tab.py \
		tests/browser/test_reintegration_plan.py tests/browser/test_corrections.py tests/browser/test_caseworker_day.py \
		tests/browser/test_reading_the_trends.py tests/browser/test_research_export.py \
		-k "(every_tab or booked_return or cancelled_with_a_reason_on_a_phone or khm_accepts or childs_return \
		or approves_from_the_fund or three_surveys or three_elements or (corrects_a_service and en-US) \
		or caseworkers_day or reads_the_trends or (fit_a_phone and fr-FR) or hq_approves) and sqlite"

# Re-extract the .pot files, create any missing catalog (pybabel init), merge the .pot into
# every catalog (pybabel update), compile the .mo files. Idempotent: a second run changes no
# file's content. The .pot has no header (its creation date would change on every run) and no
# locations; the .po files keep their header (Language, Plural-Forms) and follow the .pot's order.
I18N_LOCALES := en fr es
PYBABEL := $(CURDIR)/$(BIN)/pybabel
# $(call i18n_domain,PROJECT_DIR,CATALOG_DIR,DOMAIN): PROJECT_DIR holds the pyproject.toml with
# the Babel mappings; CATALOG_DIR is relative to it.
define i18n_domain
	cd $(1) && $(PYBABEL) --quiet extract -F pyproject.toml -k N_ --no-location --omit-header --sort-output \
		-o $(2)/$(3).pot .
	for locale in $(I18N_LOCALES); do \
		test -f $(1)/$(2)/$$locale/LC_MESSAGES/$(3).po \
		|| $(PYBABEL) --quiet init -D $(3) -i $(1)/$(2)/$(3).pot -d $(1)/$(2) -l $$locale || exit 1; \
	done
	$(PYBABEL) --quiet update -D $(3) -i $(1)/$(2)/$(3).pot -d $(1)/$(2) \
		--ignore-obsolete --ignore-pot-creation-date
	$(PYBABEL) compile -D $(3) -d $(1)/$(2) --statistics
endef

i18n: $(STAMP)
	$(call i18n_domain,.,ctm_plugin/i18n,ctm_plugin)
	$(call i18n_domain,host,mimosa_host/i18n,mimosa_host)

clean:
	rm -rf $(VENV) var .pytest_cache
