# The two commands the README opens with: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test lint compat-venvs compat-aup compat-nni bench-throughput clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Install tunelab with scikit-learn (the quickstart tunes an SVM) and run the quickstart experiment.
demo: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[sklearn]'
	$(BIN)/tunelab run examples/quickstart/config.yml

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	bash .ci/system-deps

# Install the test dependencies, run the static checks (`make lint`), then the whole test suite.
test: lint compat-venvs
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Static checks, each failing the build: ruff's lint rules and formatting, and mypy over
# src/tunelab (the package ships py.typed; the settings are in pyproject.toml).
# ruff and mypy come with the test extra, at the versions pinned there.
lint: install-test
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

# The differential tests (tests/compat) run the real upstream packages, each in its own venv
# under .compat/ (ignored by git), so their pins never touch .venv. A venv counts as made
# once its install has finished (the .installed stamp); the tests skip, saying why, without one.
COMPAT := .compat

compat-venvs: compat-aup compat-nni

# Auptimizer 2.0 (10 to 20 s). Its wheel declares no dependencies and nothing more is
# installed: the tests run its standalone client module aup/aup.py.
compat-aup: $(COMPAT)/aup/.installed

$(COMPAT)/aup/.installed:
	rm -rf $(COMPAT)/aup
	$(PYTHON) -m venv $(COMPAT)/aup
	$(COMPAT)/aup/bin/pip install --quiet --disable-pip-version-check auptimizer==2.0
	touch $@

# NNI 3.0 with its declared dependencies, nothing pinned (about 50 s here, 610 MB; it works
# with numpy 2 and scipy 1.17). The tests drive its algorithm classes through
# tests/compat/nni_oracle.py; its web UI and trial runtime are not used.
compat-nni: $(COMPAT)/nni/.installed

$(COMPAT)/nni/.installed:
	rm -rf $(COMPAT)/nni
	$(PYTHON) -m venv $(COMPAT)/nni
	$(COMPAT)/nni/bin/pip install --quiet --disable-pip-version-check nni==3.0
	touch $@

bench-throughput: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python -m benchmarks.throughput

clean:
	rm -rf $(VENV) $(COMPAT) build *.egg-info .pytest_cache test-artifacts
