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

.PHONY: run test lint typecheck unit bench eval install clean lock sbom audit

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	@touch $@

# The main job: four 32x32 knights with the default model (SDXL + pixel-art LoRA).
# Exit code 5 means the model is neither cached nor downloadable (the generate
# error says how to get it); then the built-in model draws them, but only when
# its trained weights ship ($(BUILTIN_WEIGHTS): it never passes off a random-weight
# model's output), and in any case the showcase shows what works offline.
PROMPT ?= a knight with a sword, side view
BUILTIN_WEIGHTS ?= src/dgx_pixels/engine/_builtin/weights/sprites-32.safetensors
run: $(STAMP)
	@$(BIN) generate "$(PROMPT)" --size 32 --count 4 --palette endesga-32 --out outputs/run; \
	rc=$$?; \
	if [ $$rc -ne 5 ]; then exit $$rc; fi; \
	if [ -f "$(BUILTIN_WEIGHTS)" ]; then \
	  echo; echo "No SDXL here (dgx-pixels models pull pixel-art-xl fetches it), so the built-in model builtin:sprites-32 draws them:"; \
	  $(BIN) generate "$(PROMPT)" --model builtin:sprites-32 --size 32 --count 16 --steps 15 \
	    --scheduler "dpm++ 2m" --guidance 3 --palette endesga-32 --out outputs/run-builtin || exit $$?; \
	  what="And the rest of what works offline"; \
	else what="No generation model here, so here is what works offline"; fi; \
	echo; echo "$$what: the pixel toolkit, sets and exports on real examples."; \
	examples/offline-showcase.sh $(BIN) outputs/showcase

test: lint typecheck unit

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest -q

# Speed benchmarks (pytest-benchmark) and the generation benchmark against plain diffusers.
bench: $(STAMP)
	$(PY) -m pytest benchmarks -q --benchmark-enable
	$(BIN) bench

# The restore evaluation against proper-pixel-art, perfect-pixel and unfake
# (docs/restore-evaluation.md; cached in .eval-cache/): the three main levels on
# 300 sprites, the three failure-class levels on 60 (proper-pixel-art takes
# seconds a case there), and the real generator outputs. About 30 minutes on two cores.
eval: $(STAMP)
	$(PY) -m pip install -q -e ".[peers]"
	$(PY) -m dgx_pixels.metrics.restore_eval -n 300 --seed 0 --levels easy,medium,hard --no-real
	$(PY) -m dgx_pixels.metrics.restore_eval -n 60 --seed 0 --levels low-contrast,half-cell,textured

# The lock: every distribution of the tested environment at its exact version
# (pip freeze of .venv; why not hashes: docs/deploy.md#the-lock-file-and-the-sbom).
LOCK ?= requirements.lock
SBOM ?= sbom.cdx.json
lock: $(STAMP)
	@{ echo "# Every distribution of the environment the tests ran in, at its exact version."; \
	   echo "# Made by 'make lock' (pip freeze) with $$($(PY) -c 'import platform, sys; print(f"Python {platform.python_version()} on {sys.platform}-{platform.machine()}")')."; \
	   echo "# Reinstall: pip install --extra-index-url https://download.pytorch.org/whl/cpu -r $(LOCK) && pip install --no-deps -e ."; \
	   $(PY) -m pip freeze --exclude-editable --all | LC_ALL=C sort -f; } > $(LOCK)
	@echo "wrote $(LOCK) ($$(grep -c '==' $(LOCK)) distributions)"

# A CycloneDX SBOM of the lock, validated against the CycloneDX 1.6 schema (CI runs this through
# tests/deploy/test_lock_and_sbom.py).
sbom: $(STAMP)
	$(VENV)/bin/cyclonedx-py requirements $(LOCK) --pyproject pyproject.toml --validate \
	  --spec-version 1.6 --of JSON --output-reproducible -o $(SBOM)

# pip-audit needs its vulnerability service (network): for machines that have one, never CI.
# --strict fails when a distribution could not be audited, so an unreachable service is an error.
audit: $(STAMP)
	$(PY) -m pip install -q "pip-audit>=2.7"
	$(VENV)/bin/pip-audit --strict --no-deps --disable-pip -r $(LOCK)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
