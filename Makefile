# The two commands the README opens with: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test lint bench-throughput clean

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

# Install the test dependencies and run the whole test suite.
test: install-test
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: install-test
	$(BIN)/pip install --quiet ruff
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

bench-throughput: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python -m benchmarks.throughput

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache test-artifacts
