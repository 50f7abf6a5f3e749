# The two commands of the README: `make demo` and `make test`. Both set up first (idempotent, seconds when done).
PYTHON := .venv/bin/python
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1

.PHONY: setup demo test bench lint

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/hf-asr demo

test: setup
	$(PYTHON) -m pytest -q

bench: setup
	$(PYTHON) scripts/bench_model.py
	$(PYTHON) scripts/bench_decode.py

lint: setup
	.venv/bin/ruff check hf_asr tests scripts examples
	.venv/bin/ruff format --check hf_asr tests scripts examples
