# deploycheck: `make check` verifies a deployment, `make test` tests deploycheck.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
INVENTORY ?=
STACK ?= idr
PYTEST_ARGS ?=
# compiled modules (pytest's rewritten controls too) are kept, but in the venv, never beside the sources
# or in the stacks' build contexts: every pytest process of a run would otherwise compile them again
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX := $(abspath $(VENV))/pycache
# self-test runs must not add their summaries to a CI job summary; the healthy controls run does
NO_JOB_SUMMARY := env -u GITHUB_STEP_SUMMARY

ifeq ($(STACK),all)
STACKS := idr vidjil
else
STACKS := $(STACK)
endif
REFERENCE_ARGS := $(foreach s,$(STACKS),--inventory=inventories/reference-$(s).yml)
ALL_REFERENCES := --inventory=inventories/reference-idr.yml --inventory=inventories/reference-vidjil.yml

.PHONY: wheelhouse bench check test venv stack stack-down stack-clean stack-fresh unit controls-healthy selftests-stack twins soak faults lint typecheck controls

$(PY): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(PY)

venv: $(PY)

## check: every non-disruptive control on the reference stack(s) (STACK=idr|vidjil|all), or INVENTORY=path
check: $(PY)
ifeq ($(strip $(INVENTORY)),)
	@for s in $(STACKS); do $(PY) -m deploycheck.stack up $$s || exit 1; done
	$(PY) -m pytest $(REFERENCE_ARGS) -n auto -m "not disruptive" $(PYTEST_ARGS)
else
	$(PY) -m pytest $(foreach i,$(INVENTORY),--inventory=$(i)) -n auto -m "not disruptive" $(PYTEST_ARGS)
endif

## stack / stack-down / stack-clean: start, stop, or stop and drop the data of the reference stack(s)
stack: $(PY)
	@for s in $(STACKS); do $(PY) -m deploycheck.stack up $$s || exit 1; done

stack-down: $(PY)
	@for s in $(STACKS); do $(PY) -m deploycheck.stack down $$s || exit 1; done

stack-clean: $(PY)
	@for s in $(STACKS); do $(PY) -m deploycheck.stack down $$s --volumes || exit 1; done

## test: unit tests, the controls against freshly started stacks, live self-tests, a short soak, the fault matrix
test: lint unit stack-fresh controls-healthy selftests-stack twins soak faults

## twins: the suite on the twins of the real systems as they ship; verdicts compared with the pinned ones
twins: $(PY)
	$(NO_JOB_SUMMARY) $(PY) -m selftests.twins all

N ?= 3
## soak: the full default suite N times on the healthy stacks (make soak N=20)
soak: $(PY)
	$(NO_JOB_SUMMARY) $(PY) -m selftests.soak --runs $(N)

## wheelhouse: deploycheck's dependencies and build tools as wheels, so the install self-test runs offline
wheelhouse: $(PY)
	@$(PY) -m pip wheel --quiet --disable-pip-version-check -w .wheelhouse . 'setuptools>=61' wheel 2>/dev/null
	@rm -f .wheelhouse/deploycheck-*.whl

selftests-stack: $(PY) wheelhouse
	$(NO_JOB_SUMMARY) $(PY) -m pytest selftests/stack -q -p no:deploycheck

stack-fresh: $(PY)
	@$(PY) -m deploycheck.stack down all --volumes
	@$(PY) -m deploycheck.stack up all

unit: $(PY)
	$(PY) -m pytest selftests/unit -q -p no:deploycheck

controls-healthy: $(PY)
	$(PY) -m pytest $(ALL_REFERENCES) -n auto -m "not disruptive" -q

## bench: suite speed against its floor, serial vs parallel, 1 vs 4 read-only hosts, make check, cold build
bench: $(PY)
	$(PY) -m bench.run $(BENCH_ARGS)

faults: $(PY)
	@$(PY) -m deploycheck.stack up idr-candidate
	$(NO_JOB_SUMMARY) $(PY) -m selftests.faults --stack all

lint: $(PY) typecheck
	$(VENV)/bin/ruff check deploycheck tests selftests fixtures bench

# the whole package, the controls too (deploycheck/tests); settings in pyproject.toml
TYPED := -p deploycheck

## typecheck: mypy over the package and its controls
typecheck: $(PY)
	$(VENV)/bin/mypy $(TYPED)

## controls: print the control catalogue and regenerate docs/controls.md (and the twins' findings tables)
controls: $(PY)
	$(PY) -m deploycheck.catalogue
	$(PY) -m deploycheck.catalogue --markdown > docs/controls.md.tmp && mv docs/controls.md.tmp docs/controls.md
	$(PY) -m selftests.twins all --markdown
