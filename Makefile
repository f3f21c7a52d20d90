# The two commands of README's first screen: `make demo` and `make test`.
.PHONY: setup demo test lint bench samples clean
PY := .venv/bin/python

setup:
	@bash scripts/setup.sh

demo: setup
	@$(PY) -m keyceremony.demo demo-output

# `make test` runs the linters first: a type error or a broken import contract fails CI.
test: lint
	@$(PY) -m pytest -q

lint: setup
	@.venv/bin/ruff check src tests bench scripts
	@.venv/bin/mypy
	@.venv/bin/lint-imports

bench: setup
	@$(PY) -m bench

samples: setup
	@$(PY) scripts/make_samples.py

clean:
	rm -rf .venv build .pytest_cache .hypothesis
