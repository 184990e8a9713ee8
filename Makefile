# Two commands do all set-up: `make deck` (the main job) and `make test`.
# Both create .venv/ when missing, (re)install the package when pyproject.toml changed,
# register the Jupyter kernel and generate the synthetic contact center when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SYNTH  := data/synthetic
LOWEST := .venv-lowest

.PHONY: deck test test-unit test-lowest synth clean help

help:
	@echo "make deck   set up, generate the synthetic data if needed, run the main job"
	@echo "make test   set up and run the whole test suite (unit, notebooks, end to end)"
	@echo "make test-unit   the fast tier only: tests/unit, in-process"
	@echo "make test-lowest the unit tier on the lowest versions pyproject.toml allows (.venv-lowest/)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name ccinsight --display-name "Python (ccinsight)" >/dev/null
	touch $@

# Always consulted, cheap: regenerates only when missing or made by another generator version.
synth: $(STAMP)
	$(BIN)/ccinsight synth --if-stale --out $(SYNTH)

# The main job: the monthly insight deck of the latest complete month (params/monthly.yaml).
deck: synth
	$(BIN)/ccinsight deck --force

# Every tier: tests/unit (in-process), notebooks/ under nbval and tests/notebooks, tests/e2e.
test: synth
	$(BIN)/python -m pytest

# The fast inner loop: the package in-process on small fixtures.
test-unit: synth
	$(BIN)/python -m pytest tests/unit

# The floors in pyproject.toml are real: a separate venv with the lowest version of every
# direct dependency they allow (CI runs this after `make test`).
test-lowest: synth
	rm -rf $(LOWEST)
	$(BIN)/uv venv --quiet --python $(BIN)/python $(LOWEST)
	$(BIN)/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e '.[test]'
	$(LOWEST)/bin/python -m pytest tests/unit

clean:
	rm -rf $(VENV) $(LOWEST) $(SYNTH) outputs/*/
