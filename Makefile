# gnnkit: `make demo` runs the main job, `make test` runs the suite.
# Both create .venv and install the tested set pinned in constraints.txt.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT ?= runs/demo
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test setup lab notebooks bench quality style clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[notebooks,dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gnnkit run --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

notebooks: $(STAMP)
	$(BIN)/python -m gnnkit.viz.notebooks notebooks --html-dir notebooks/html

bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

quality: $(STAMP)
	$(BIN)/ruff check gnnkit tests bench

style: $(STAMP)
	$(BIN)/ruff format gnnkit tests bench

clean:
	rm -rf $(VENV) runs .pytest_cache
