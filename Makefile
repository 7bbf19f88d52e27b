# Two entry points (see README): `make predict` (the main job) and `make test`.
# Both create .venv and install the pinned requirements on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHECKPOINT ?= weights/stylegan2-ffhq-config-f.pt
SEEDS ?= 0-3
OUT ?= outputs
PHOTO ?= examples/astronaut.jpg
MOTION ?= smile
SYNTHETIC ?=

.PHONY: predict sample demo test bench cuda-check gpu-check clean

$(STAMP): requirements.txt requirements-app.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# Old Cog (0.16, its FastAPI server) in a venv of its own with the runtime requirements: the
# tests serve the same predict.py and cog.yaml with it (tests/test_cog016.py).
COG016 := .venv-cog016
$(COG016)/.installed: requirements.txt
	test -x $(COG016)/bin/python || $(PY) -m venv $(COG016)
	$(COG016)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt cog==0.16.12
	touch $@

# The main job: the example photo performing a micromotion → outputs/astronaut-smile.mp4.
# Fetches the official weights on first run; `make predict SYNTHETIC=1` runs on synthetic ones.
predict: $(STAMP)
	@$(BIN)/python -m micromotion animate "$(PHOTO)" --micromotion $(MOTION) \
	  $(if $(SYNTHETIC),--synthetic --output-size 256 --weights $(or $(wildcard ../shared/reference),weights),) \
	  || { echo "(to try the whole path without the official weights: make predict SYNTHETIC=1)"; exit 2; }

# The Gradio page on http://127.0.0.1:7860 (SYNTHETIC=1 for synthetic weights).
demo: $(STAMP)
	$(if $(SYNTHETIC),MICROMOTION_SYNTHETIC=1 MICROMOTION_WEIGHTS=$(or $(wildcard ../shared/reference),weights),) $(BIN)/python app.py

# Renders sample faces with the official FFHQ generator. Without it (`python -m
# micromotion.weights fetch` gets it) it says so and renders a labelled synthetic sample instead.
sample: $(STAMP)
	@if [ -f "$(CHECKPOINT)" ]; then \
	  $(BIN)/python -m micromotion sample --checkpoint "$(CHECKPOINT)" --seeds $(SEEDS) --out $(OUT); \
	else \
	  echo "note: $(CHECKPOINT) not found (sha256 and source in weights/manifest.json);"; \
	  echo "      rendering from a synthetic checkpoint instead: abstract patterns, not faces."; \
	  $(BIN)/python -m micromotion sample --synthetic --seeds $(SEEDS) --out $(OUT); \
	fi

test: $(STAMP) $(COG016)/.installed
	tools/install_chromium.sh
	$(BIN)/python -m pytest -q tests

bench: $(STAMP)
	$(BIN)/python bench/paths.py
	$(BIN)/python bench/render.py

cuda-check: $(STAMP)
	tools/compile_check_cuda.sh

# On a machine with a GPU: build and verify the CUDA ops, run the CUDA tests, time the generator,
# video, inversion and text anchors on full-size synthetic weights (one table). Without one: says
# so. On the lent GPU machine (no venv, nothing to download; .device/ sent along, made here by
# tools/device_pack.sh) it runs tools/device_check.sh.
gpu-check:
	@if [ -d .device/site ] && [ ! -x $(BIN)/python ]; then tools/device_check.sh; \
	else $(MAKE) --no-print-directory $(STAMP) && $(BIN)/python tools/gpu_check.py; fi

clean:
	rm -rf $(VENV) $(COG016) $(OUT) .pytest_cache
