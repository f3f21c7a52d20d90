# The two commands of README's first screen: `make demo` and `make test`.
.PHONY: setup demo test bench samples clean
PY := .venv/bin/python

setup:
	@bash scripts/setup.sh

demo: setup
	@$(PY) -m keyceremony.demo demo-output

test: setup
	@$(PY) -m pytest -q

bench: setup
	@$(PY) -m bench

samples: setup
	@$(PY) scripts/make_samples.py

clean:
	rm -rf .venv build .pytest_cache .hypothesis
