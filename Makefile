# Two commands do all set-up on a fresh machine with Python 3.11+ and pip:
#   make report   -> outputs/<latest quarter>/ from data/sample/
#   make test     -> ruff, unit tests and nbval over notebooks/
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
QUARTER ?= latest
DATA ?= data/sample
OUT ?= outputs

.PHONY: report test install lint sample bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name daanalysis --display-name "Python (daanalysis)"
	touch $@

install: $(VENV)/.installed

report: install
	$(BIN)/daanalysis report --quarter "$(QUARTER)" --data "$(DATA)" --out "$(OUT)"

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

sample: install
	$(BIN)/python -m daanalysis.sample --out data/sample

bench: install
	$(BIN)/python benchmarks/bench_caseload.py
	$(BIN)/python benchmarks/bench_report.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
