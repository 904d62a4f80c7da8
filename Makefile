# Genesys Cloud pipelines for Apache Airflow. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NAME ?=

.PHONY: venv demo test lint airflow bench stack-test chaos lock clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -p no:cacheprovider

demo: $(STAMP)
	$(PY) tools/demo.py

airflow: $(STAMP)
	$(PY) tools/airflow_ui.py

bench: $(STAMP)
	$(PY) bench/run.py $(NAME)

# Regenerate the pinned locks from requirements.in / requirements-dev.in in a throwaway venv.
lock:
	rm -rf /tmp/genesys-lock-venv && $(PYTHON) -m venv /tmp/genesys-lock-venv
	/tmp/genesys-lock-venv/bin/pip install -q --upgrade pip
	/tmp/genesys-lock-venv/bin/pip install -q -r requirements.in
	( echo "# The tested lock of requirements.in (Python 3.11). Regenerate with: make lock"; \
	  /tmp/genesys-lock-venv/bin/pip freeze --exclude-editable ) > requirements.txt
	/tmp/genesys-lock-venv/bin/pip install -q -r requirements-dev.in
	( echo "# Dev/test tools on top of requirements.txt (Python 3.11). Regenerate with: make lock"; \
	  comm -13 <(grep -v '^#' requirements.txt | sort) <(/tmp/genesys-lock-venv/bin/pip freeze --exclude-editable | sort) ) > requirements-dev.txt

clean:
	rm -rf $(VENV) .airflow .devstack
