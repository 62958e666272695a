# deploycheck: `make check` verifies a deployment, `make test` tests deploycheck.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
INVENTORY ?=
REFERENCE := inventories/reference-idr.yml
PYTEST_ARGS ?=
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: check test venv stack stack-down stack-clean stack-fresh unit controls-healthy faults lint

$(PY): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(PY)

venv: $(PY)

## check: run every non-disruptive control (reference stack, or INVENTORY=path)
check: $(PY)
ifeq ($(strip $(INVENTORY)),)
	@$(PY) -m deploycheck.stack up idr
	$(PY) -m pytest --inventory=$(REFERENCE) -n auto -m "not disruptive" $(PYTEST_ARGS)
else
	$(PY) -m pytest --inventory=$(INVENTORY) -n auto -m "not disruptive" $(PYTEST_ARGS)
endif

## stack / stack-down: start or stop the IDR reference stack (data volumes are kept)
stack: $(PY)
	@$(PY) -m deploycheck.stack up idr

stack-down: $(PY)
	@$(PY) -m deploycheck.stack down idr

stack-clean: $(PY)
	@$(PY) -m deploycheck.stack down idr --volumes

## test: unit tests, the controls against a freshly started stack, the fault matrix
test: lint unit stack-fresh controls-healthy faults

stack-fresh: $(PY)
	@$(PY) -m deploycheck.stack down idr --volumes
	@$(PY) -m deploycheck.stack up idr

unit: $(PY)
	$(PY) -m pytest selftests/unit -q -p no:deploycheck

controls-healthy: $(PY)
	$(PY) -m pytest --inventory=$(REFERENCE) -n auto -m "not disruptive" -q

faults: $(PY)
	$(PY) -m selftests.fault_matrix --inventory=$(REFERENCE)

lint: $(PY)
	$(VENV)/bin/ruff check deploycheck tests selftests fixtures
