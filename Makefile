# rfkernels developer commands. `make demo` and `make test` work on a fresh machine
# with Python >= 3.11 and a Rust toolchain: they create .venv, build the extension
# in release mode (maturin) and install the Python dependencies from PyPI.

VENV ?= .venv
PYTHON := $(VENV)/bin/python
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(VIRTUAL_ENV)/bin:$(PATH)

.PHONY: build demo test lint bench clean

$(VENV)/bin/maturin:
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip "maturin>=1.9.4,<2"

# Release build of the extension, installed (editable) with the test, dev, plot and dask extras.
build: $(VENV)/bin/maturin
	maturin develop --release --extras test,dev,plot,dask

demo: build
	rfkernels demo --out rfkernels-demo

# Rust unit tests (pure core, no Python) and the whole pytest suite (with doctests).
test: build
	cargo test
	$(PYTHON) -m pytest

lint: build
	cargo fmt --check
	cargo clippy --all-targets --features python -- -D warnings
	ruff check python tests benches
	ruff format --check python tests benches
	$(PYTHON) -m mypy.stubtest rfkernels._core

# Benchmarks (release build), results summarized in benches/RESULTS.md.
bench: build
	$(PYTHON) -m pytest benches --benchmark-only --benchmark-columns=min,median,rounds

clean:
	rm -rf $(VENV) target
