# Genesys Cloud pipelines for Apache Airflow. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NAME ?=

.PHONY: venv compose-tool browser-tool demo test lint airflow bench stack-test chaos lock clean

$(STAMP): requirements.txt requirements-local.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

# Debian's docker-compose (v1) validates docker-compose.yaml offline (`config -q`); no engine runs here.
# Best effort: the compose test falls back to its structural checks when apt is unavailable.
compose-tool:
	@command -v docker-compose >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null 2>&1) \
	  || echo "docker-compose not installed: compose file checked structurally only"; }

# Debian's Chromium (+ chromedriver) for the browser test (tests/e2e/test_browser.py), driven by the Python
# `playwright` package from requirements-dev.txt (Playwright's own browser download is not used). The test
# fails with an install hint, never skips, when the browser is missing.
browser-tool:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1) \
	  || echo "chromium not installed: tests/e2e/test_browser.py will fail (apt-get install -y chromium chromium-driver)"; }

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The suite in two fixed halves run side by side: tests/dags (the dag.test() runs) plus the restatement e2e on
# its own native stack (it has no UI waits, and balances the halves) in one pytest process, and every other
# module but the three UI/stack modules in another, each with its own Airflow home, metadata DB, sandbox and
# S3 (tests/conftest.py runs in each); then those three modules, in one process, alone on the machine (the
# browser test's UI waits fail when DAG runs share the 2 cores). Fixed halves,
# not pytest-xdist's dynamic scheduling: each half keeps the serial run's module order, so a test that reads
# shared session state sees what it sees in a serial run (xdist's placement varied from run to run, and with
# it which earlier runs a test shared the session with). TEST_WORKERS=0: all in one process.
TEST_WORKERS ?= 2
STACK_TESTS := tests/e2e/test_airflow_ui.py tests/e2e/test_browser.py tests/e2e/test_stack.py
RESTATE_E2E := tests/e2e/test_stack_restatement.py

test: $(STAMP) compose-tool browser-tool
	$(VENV)/bin/ruff check .
ifeq ($(TEST_WORKERS),0)
	$(PY) -m pytest -q -p no:cacheprovider
else
	status=0; dags_log=$$(mktemp); \
	$(PY) -m pytest -q -p no:cacheprovider tests/dags $(RESTATE_E2E) > $$dags_log 2>&1 & dags=$$!; \
	$(PY) -m pytest -q -p no:cacheprovider --ignore=tests/dags --ignore=$(RESTATE_E2E) $(addprefix --ignore=,$(STACK_TESTS)) \
	  || status=$$?; \
	wait $$dags || status=$$?; echo "== tests/dags"; cat $$dags_log; rm -f $$dags_log; \
	$(PY) -m pytest -q -p no:cacheprovider $(STACK_TESTS) || status=$$?; \
	exit $$status
endif

demo: $(STAMP)
	$(PY) tools/demo.py

airflow: $(STAMP)
	$(PY) tools/airflow_ui.py

bench: $(STAMP)
	$(PY) bench/run.py $(NAME)

# The docker-compose topology run natively (CeleryExecutor + PostgreSQL + Redis), driven over REST.
stack-test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider tests/e2e/test_stack.py

# The full resilience and security suite (chaos equivalence, 30-day backfill, bad inputs, secrets).
chaos: $(STAMP)
	$(PY) tools/chaos.py

# Regenerate the pinned locks from requirements.in / requirements-local.in / requirements-dev.in in a
# throwaway venv. `--all` keeps the setuptools pin (pip freeze drops it by default). No hashes: computing
# them needs every artifact from the index (pip-compile --generate-hashes where that is allowed).
lock:
	rm -rf /tmp/genesys-lock-venv && $(PYTHON) -m venv /tmp/genesys-lock-venv
	/tmp/genesys-lock-venv/bin/pip install -q --upgrade pip
	/tmp/genesys-lock-venv/bin/pip install -q -r requirements.in
	( echo "# The tested runtime lock of requirements.in (Python 3.11). Regenerate with: make lock."; \
	  echo "# No moto here: the local S3 emulator is requirements-local.txt (dev, tests, the compose \`local\` profile)."; \
	  /tmp/genesys-lock-venv/bin/pip freeze --all --exclude-editable | grep -v -e '^pip==' -e '^wheel==' ) > requirements.txt
	/tmp/genesys-lock-venv/bin/pip install -q -r requirements-local.in
	( echo "# The local S3 emulator (moto) and what only it needs, on top of requirements.txt. make lock."; \
	  comm -13 <(grep -v '^#' requirements.txt | sort) <(/tmp/genesys-lock-venv/bin/pip freeze --all --exclude-editable | grep -v -e '^pip==' -e '^wheel==' | sort) ) > requirements-local.txt
	/tmp/genesys-lock-venv/bin/pip install -q -r requirements-dev.in
	( echo "# Dev/test tools on top of requirements.txt (Python 3.11). Regenerate with: make lock"; \
	  echo "-r requirements-local.txt"; \
	  comm -13 <(grep -hv -e '^#' -e '^-r' requirements.txt requirements-local.txt | sort) <(/tmp/genesys-lock-venv/bin/pip freeze --all --exclude-editable | grep -v -e '^pip==' -e '^wheel==' | sort) ) > requirements-dev.txt

clean:
	rm -rf $(VENV) .airflow .devstack .devstack-ui
