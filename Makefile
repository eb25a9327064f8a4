# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install clean lint-policies

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

demo: $(STAMP)
	$(BIN)/orch sandbox reset
	$(BIN)/orch plan --sandbox -p policies/mgi.yaml
	$(BIN)/orch apply --sandbox -p policies/mgi.yaml --yes
	$(BIN)/orch plan --sandbox -p policies/mgi.yaml

clean:
	rm -rf $(VENV) .orch build *.egg-info
