# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install clean lint-policies bench demo-watch

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

lint-policies: $(STAMP)
	$(BIN)/orch lint policies/

# Performance (issue 13): S and M worlds (L too with LARGE=1); writes benchmarks/results.md and .json.
# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS="--sizes M --no-latency".
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(if $(LARGE),--large) $(BENCH_ARGS)

demo: $(STAMP)
	$(BIN)/orch sandbox reset
	$(BIN)/orch plan --sandbox -p policies/mgi.yaml
	$(BIN)/orch apply --sandbox -p policies/mgi.yaml --yes
	$(BIN)/orch plan --sandbox -p policies/mgi.yaml

# orch watch --events on the sandbox: a new analysis succeeds and is handed off seconds later (ops, issue 14)
demo-watch: $(STAMP)
	$(BIN)/python -m orch.ops.demo_watch

clean:
	rm -rf $(VENV) .orch build *.egg-info
