# The course's commands. Each one sets itself up: .venv is made from requirements.txt when
# absent and reused after. `make run` executes every lesson; `make test` is what CI runs.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# Always import helpers from this checkout, also where .venv is shared with another one.
export PYTHONPATH := $(CURDIR)
export MPLBACKEND := Agg

.PHONY: run site test lab lessons check-lessons benchmarks clean setup

$(VENV)/.ready: requirements.txt pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

setup: $(VENV)/.ready

run: $(VENV)/.ready  ## execute every lesson headless, results under runs/
	$(PY) scripts/run_lessons.py $(LESSONS)

# The course as a static website (Sphinx + MyST-NB) from the notebooks `make run` executed, read from
# $(GAN_COURSE_RUNS) or runs/; a lesson not run yet is shown without outputs, and the build says so.
SITE ?= site
site: $(VENV)/.ready  ## the website in $(SITE)/html (open: python -m http.server -d $(SITE)/html)
	$(PY) scripts/build_site.py --out $(SITE)

# Colab's front end speaks ipywidgets 7 (7.7.1, with ipykernel 6.17.1). `make test` puts those versions first
# on the path (the kernels' too), from a folder beside the venv, so that every lesson is executed once, in smoke
# mode, with what Colab runs; the venv keeps ipywidgets 8 for JupyterLab 4, which tests/test_browser.py drives.
WIDGETS7 := .ipywidgets7
WIDGETS7_PACKAGES := ipywidgets==7.7.1 widgetsnbextension==3.6.10 jupyterlab_widgets==3.0.16 ipykernel==6.17.1 ipython_genutils==0.2.0

$(WIDGETS7)/.ready: Makefile
	rm -rf $(WIDGETS7)
	$(PY) -m pip install --quiet --no-deps --target $(WIDGETS7) $(WIDGETS7_PACKAGES)
	@touch $@

test: $(VENV)/.ready $(WIDGETS7)/.ready  ## the whole test suite (what .ci/run calls)
	$(PY) scripts/make_lessons.py --check
	@# tests/test_notebooks.py executes every solution once, in smoke mode, with injected parameters,
	@# writing to a scratch folder (what `make run` left in runs/ is not touched).
	PYTHONPATH=$(CURDIR)/$(WIDGETS7):$(CURDIR) $(PY) -m pytest -q -p no:cacheprovider --durations=30 tests

lab: $(VENV)/.ready  ## JupyterLab on the lessons
	$(VENV)/bin/jupyter lab lessons

lessons: $(VENV)/.ready  ## regenerate lessons/ from solutions/ (and strip solution outputs)
	$(PY) scripts/make_lessons.py --strip

benchmarks: $(VENV)/.ready  ## the speed and quality benchmarks (minutes)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf runs .pytest_cache $(SITE)
