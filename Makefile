# The course's commands. Each one sets itself up: .venv is made from requirements.txt when
# absent and reused after. `make run` executes every lesson; `make test` is what CI runs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# Always import helpers from this checkout, also where .venv is shared with another one.
export PYTHONPATH := $(CURDIR)
export MPLBACKEND := Agg

.PHONY: run test lab lessons check-lessons benchmarks clean setup

$(VENV)/.ready: requirements.txt pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

setup: $(VENV)/.ready

run: $(VENV)/.ready  ## execute every lesson headless, results under runs/
	$(PY) scripts/run_lessons.py $(LESSONS)

test: $(VENV)/.ready  ## the whole test suite (what .ci/run calls)
	$(PY) scripts/make_lessons.py --check
	@# tests/test_notebooks.py executes every solution once, in smoke mode, with injected parameters,
	@# writing to a scratch folder (what `make run` left in runs/ is not touched).
	$(PY) -m pytest -q tests

lab: $(VENV)/.ready  ## JupyterLab on the lessons
	$(VENV)/bin/jupyter lab lessons

lessons: $(VENV)/.ready  ## regenerate lessons/ from solutions/ (and strip solution outputs)
	$(PY) scripts/make_lessons.py --strip

benchmarks: $(VENV)/.ready  ## the speed and quality benchmarks (minutes)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf runs .pytest_cache
