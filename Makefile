# Two entry points (see README): `make sample` (the main job) and `make test`.
# Both create .venv and install the pinned requirements on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHECKPOINT ?= weights/stylegan2-ffhq-config-f.pt
SEEDS ?= 0-3
OUT ?= outputs

.PHONY: sample test bench cuda-check clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# Renders sample faces with the official FFHQ generator. Without it (it is never in git, and
# issue-tracked fetching comes later) it says so and renders a labelled synthetic sample instead.
sample: $(STAMP)
	@if [ -f "$(CHECKPOINT)" ]; then \
	  $(BIN)/python -m micromotion sample --checkpoint "$(CHECKPOINT)" --seeds $(SEEDS) --out $(OUT); \
	else \
	  echo "note: $(CHECKPOINT) not found (sha256 and source in weights/manifest.json);"; \
	  echo "      rendering from a synthetic checkpoint instead: abstract patterns, not faces."; \
	  $(BIN)/python -m micromotion sample --synthetic --seeds $(SEEDS) --out $(OUT); \
	fi

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

bench: $(STAMP)
	$(BIN)/python bench/render.py

cuda-check: $(STAMP)
	tools/compile_check_cuda.sh

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
