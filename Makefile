# Everyday commands. `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint format clean bench eval soak faults

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/roocode-tui $(ARGS)

# In parallel (pytest-xdist): most tests wait on processes and servers, so 6 workers keep 2
# cores busy; the slow ones start first (tests/conftest.py). TEST_WORKERS=0 runs it serially.
TEST_WORKERS ?= 6
test: $(VENV)/.installed-test
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=25 $(PYTEST_ARGS)

# `make bench` = the speed and memory targets, then the 10-minute TUI soak and the fault table.
# SOAK=0 / FAULTS=0 leave those out; SOAK_ARGS="--minutes 1" for a quick look.
bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py $(BENCH_ARGS)
ifneq ($(SOAK),0)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)
endif
ifneq ($(FAULTS),0)
	$(BIN)/python bench/faults.py $(FAULTS_ARGS)
endif

soak: $(VENV)/.installed-test
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

faults: $(VENV)/.installed-test
	$(BIN)/python bench/faults.py $(FAULTS_ARGS)

# EVAL_REPOS="DIR ...": git repositories (work trees or bare clones, with history) asked the
# questions `roocode-tui eval` mines; without it, this repository is asked.
eval: $(VENV)/.installed-test
	$(BIN)/python bench/eval/run.py
	$(BIN)/python bench/eval/packed.py
	$(BIN)/python bench/eval/langs.py
	$(BIN)/python bench/eval/docs.py
	$(BIN)/python bench/eval/cli.py
	$(BIN)/python bench/eval/repos.py --write $(EVAL_REPOS)
	$(if $(EVAL_REPOS),$(BIN)/python bench/eval/ablate.py --write $(EVAL_REPOS))

lint: $(VENV)/.installed-test
	$(BIN)/ruff check roocode_tui tests bench
	$(BIN)/ruff format --check roocode_tui tests bench

format: $(VENV)/.installed-test
	$(BIN)/ruff format roocode_tui tests
	$(BIN)/ruff check --fix roocode_tui tests

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
