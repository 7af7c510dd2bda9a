# Two commands: `make run` (the main job: generate sprites) and `make test`.
# Both create .venv and install what they need on a fresh machine.

PYTHON ?= python3
VENV   ?= .venv
# torch comes first and pinned: 2.13.0 is a CPU build where one lies on disk
# (these development machines); on a CUDA machine set TORCH to your build,
# e.g. `make run TORCH='torch --index-url https://download.pytorch.org/whl/cu128'`.
TORCH  ?= torch==2.13.0
EXTRAS ?= all,dev

PY    := $(VENV)/bin/python
BIN   := $(VENV)/bin/dgx-pixels
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench eval install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	@touch $@

run: $(STAMP)
	@$(PY) -m dgx_pixels.showcase

test: lint typecheck unit

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m pytest benchmarks -q --benchmark-enable

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
