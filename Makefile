# Two commands on a fresh machine: `make demo` and `make test` set everything up themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_OUT ?= secscan-out/demo

.PHONY: demo test lint unit bench semgrep-test clean

$(STAMP): pyproject.toml requirements-lock.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# The versions the suite is run with, which secscan's own pipeline audits (requirements-lock.txt).
	$(PY) -m pip install --quiet -e '.[dev]' -c requirements-lock.txt
	touch $(STAMP)

# Scan the bundled vulnerable payment app offline (advisories from examples/advisories), print
# the verdict and leave every report in $(DEMO_OUT). The gate is expected to FAIL on this app:
# the demo shows that, it is not an error of `make demo`.
demo: $(STAMP)
	@$(VENV)/bin/secscan scan examples/payment-app \
		--advisory-db examples/advisories \
		--out $(DEMO_OUT) --format all ; \
	rc=$$?; echo "secscan exit code: $$rc (0 pass, 1 gate failed, 2 usage, 3 scanner failed, 4 publish failed)"; \
	echo "reports: $(DEMO_OUT)/"; ls $(DEMO_OUT); \
	test $$rc -le 1

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

semgrep-test: $(STAMP)
	SEMGREP_ENABLE_VERSION_CHECK=0 $(VENV)/bin/semgrep --metrics=off --disable-version-check --test rules/semgrep

test: lint
	$(PY) -m pytest -n 2 --dist loadgroup

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) secscan-out .pytest_cache .mypy_cache .ruff_cache
