# custval — two commands on a fresh machine: `make reproduce` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.lock pyproject.toml | sha256sum | cut -c1-12)
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
JOBS ?= 2
# Numerical tests that run a second time under other OpenBLAS kernels (every x86-64 CPU of today runs
# both), so a result that depends on the CPU's BLAS kernel fails here and not on a user's machine.
NUMERICAL_TESTS := $(sort $(wildcard tests/test_efa*.py tests/test_cfa*.py tests/test_reliability*.py \
	tests/test_dimensionality*.py tests/test_pls*.py tests/test_invariance*.py tests/test_validity*.py \
	tests/test_polychoric*.py tests/test_latent_gap*.py tests/test_alignment*.py))
BLAS_KERNELS ?= Sandybridge Prescott
# nbval compares the committed outputs under another kernel than the one that wrote them.
NOTEBOOK_BLAS_KERNEL ?= Sandybridge

.PHONY: venv lock test-min reproduce processed notebooks test test-kernels wheel-test lint docs bench lab golden clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "custval needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (custval)" > /dev/null
	rm -f $(VENV)/.installed-*
	touch $@

## Re-compile the hashed lock from pyproject.toml (the one list of dependencies) with the uv pinned
## in the lock.  Versions already in the lock are kept unless pyproject.toml rules them out.
lock: venv
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes --extra dev pyproject.toml -o requirements.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes --resolution lowest-direct --extra test pyproject.toml -o requirements-min.lock

## The lower bounds pyproject.toml declares: tests in .venv-min, installed from requirements-min.lock
## (every dependency at the oldest version its bound allows).  `make test` runs MIN_TESTS there (the
## numerical tests and the file readers, where versions change numbers and parsing);
## `make test-min MIN_TESTS=tests` runs the whole suite (the checks of the repository's own
## metadata in tests/test_docs.py run in `make test`).
MIN_TESTS ?= $(NUMERICAL_TESTS) $(sort $(wildcard tests/test_ingest*.py tests/test_messy_*.py))
test-min:
	test -x .venv-min/bin/python || $(PYTHON) -m venv .venv-min
	.venv-min/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-min.lock
	PYTHONPATH=$(CURDIR) .venv-min/bin/python -m pytest -q -n $(JOBS) -p no:cacheprovider --ignore=tests/test_docs.py $(MIN_TESTS)

## The main job: data/processed from data/raw, then every notebook executed into reports/.
reproduce: venv
	$(BIN)/python -m custval.pipeline processed
	$(BIN)/python -m custval.pipeline notebooks

processed: venv
	$(BIN)/python -m custval.pipeline processed

## The whole suite: unit, golden, doctests, the documentation site, the numerical tests again under
## other BLAS kernels, then every notebook under nbval.
test: venv
	$(BIN)/ruff check custval tests benchmarks docs
	$(BIN)/python -m pytest -q -n $(JOBS) tests custval
	$(BIN)/python teaching/make_exercises.py --check
	$(MAKE) --no-print-directory docs
	$(MAKE) --no-print-directory test-kernels
	$(MAKE) --no-print-directory test-min
	$(MAKE) --no-print-directory wheel-test
	@if [ -n "$(NOTEBOOKS)" ]; then OPENBLAS_CORETYPE=$(NOTEBOOK_BLAS_KERNEL) $(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile -o addopts="-p no:cacheprovider" --nbval --nbval-sanitize-with notebooks/nbval_sanitize.cfg $(NOTEBOOKS); fi

test-kernels: venv
	@for k in $(BLAS_KERNELS); do \
	  echo "== numerical tests under OPENBLAS_CORETYPE=$$k"; \
	  OPENBLAS_CORETYPE=$$k $(BIN)/python -m pytest -q -n $(JOBS) $(NUMERICAL_TESTS) || exit 1; \
	done

## The wheel as a user gets it: built, installed with the locked dependencies into a fresh virtual
## environment in a temporary folder, and smoke-tested from an empty folder (the checkout is not importable).
WHEEL_LOCK ?= requirements.lock
wheel-test: venv
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && set -e && \
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation . -w "$$tmp/dist" && \
	echo "== wheel: $$(cd "$$tmp/dist" && ls custval-*.whl) ($$(du -k "$$tmp"/dist/custval-*.whl | cut -f1) kB)" && \
	$(BIN)/python -m venv "$$tmp/venv" && \
	"$$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(WHEEL_LOCK) && \
	"$$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$$tmp"/dist/custval-*.whl && \
	"$$tmp/venv/bin/python" -m pip check --disable-pip-version-check && \
	mkdir "$$tmp/empty" && cd "$$tmp/empty" && \
	env -u CUSTVAL_PROJECT_ROOT "$$tmp/venv/bin/python" -I - < "$(CURDIR)/tests/wheel_smoke.py"

lint: venv
	$(BIN)/ruff check custval tests benchmarks docs

## The documentation site into docs/_build/html: API pages, user guide, the notebooks rendered from
## their committed outputs (nothing is executed).  Every warning is an error.
docs: venv
	rm -rf docs/_build/html docs/_build/doctrees
	$(BIN)/python -m sphinx -b html -q -W --keep-going -d docs/_build/doctrees docs docs/_build/html
	@echo "documentation: docs/_build/html/index.html"

## Speed: every benchmarks/bench_*.py; R rows run when Rscript is installed.
bench: venv
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

## Regenerate tests/golden from tests/r/*.R (needs R; see README).
golden:
	@for f in tests/r/*.R; do echo "== $$f"; Rscript $$f || exit 1; done

lab: venv
	$(BIN)/jupyter lab --notebook-dir=notebooks

clean:
	rm -rf $(VENV) .venv-min reports .pytest_cache docs/_build docs/notebooks docs/guide/r-equivalents-table.md

## Teaching exercises: teaching/student/*.ipynb from the solution notebooks teaching/solutions/*.py
## (solution cells replaced by placeholders, checks kept, outputs cleared).  `make test` runs every
## solution and each unchanged student notebook (tests/test_teaching.py) and checks they are up to date.
.PHONY: exercises
exercises: venv
	$(BIN)/python teaching/make_exercises.py
