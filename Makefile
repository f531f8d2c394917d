# Build, test and demo targets of the sdd.devops_flow collection.
#
#   make test      everything CI runs (.ci/run calls exactly this)
#   make help      the list of targets
#
# Works from any clone folder name: the Ansible tools that need a path ending in
# ansible_collections/sdd/devops_flow get one under .build/ (see "Collection trees").
# Nothing is written outside the clone: Ansible state lives in .build/.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

NAMESPACE  := sdd
COLLECTION := devops_flow

VENV      := $(CURDIR)/.venv
VBIN      := $(VENV)/bin
PY        := $(VBIN)/python
BUILD     := $(CURDIR)/.build
VENV_STAMP := $(VENV)/.deps-installed
LAUNCHER  := $(VBIN)/devops-flow
CHECKOV_VENV := $(CURDIR)/.venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.deps-installed
CHECKOV   := $(VBIN)/checkov

# Collection trees.
#  - COLL_LINK: a symlink to this checkout, for pytest, ansible-playbook, ansible-doc
#    and ansible-lint through ANSIBLE_COLLECTIONS_PATH / PYTHONPATH (always current).
#  - SANITY_DIR: an rsync copy for ansible-test, which resolves the real path of
#    the current directory and so cannot use the symlink. The copy has no .git;
#    ANSIBLE_TEST_CONTENT_ROOT makes ansible-test list its files itself
#    ("unversioned" source) instead of walking up to this repository's .git, where
#    .build/ is ignored and it would see no file at all.
COLL_ROOT  := $(BUILD)/collections
COLL_LINK  := $(COLL_ROOT)/ansible_collections/$(NAMESPACE)/$(COLLECTION)
SANITY_ROOT := $(BUILD)/sanity
SANITY_DIR := $(SANITY_ROOT)/ansible_collections/$(NAMESPACE)/$(COLLECTION)

# Ansible state for every Ansible call made from this Makefile (never ~/.ansible).
export ANSIBLE_HOME := $(BUILD)/ansible-home
export ANSIBLE_LOCAL_TEMP := $(BUILD)/ansible-tmp
export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
export ANSIBLE_SSH_CONTROL_PATH_DIR := $(BUILD)/ansible-cp
# remote_tmp: with connection=local (tests, ansible-lint) it is on this machine,
# by default ~/.ansible/tmp.
export ANSIBLE_REMOTE_TEMP := $(BUILD)/ansible-remote-tmp
export ANSIBLE_NOCOLOR := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# ansible-test keeps its sanity venvs and its get-pip cache under ~/.ansible/test
# (a literal ~, not ANSIBLE_HOME). It runs with HOME=$(TEST_HOME), whose .ansible
# is a link to ANSIBLE_HOME, so they end up in $(ANSIBLE_HOME)/test/.
TEST_HOME := $(BUILD)/home

# Python-version-specific sanity tests (compile, import) run on every Python
# that ansible-test finds as python3.X on PATH. pyenv's shims for versions that
# are not selected refuse to run, so the bin folders of pyenv's builds go first
# on PATH: 3.9-3.11 (module targets) and 3.12-3.13 (controller); 3.14 is not
# on these machines and is skipped with a warning. Measured on a small
# collection, a warm run with all five versions took 19.5 s against 16.6 s with
# `--python 3.13` alone, so all are kept. To restrict, for example:
#   make sanity SANITY_OPTS='--python 3.13'
#   make sanity SANITY_OPTS='--test pep8 --test pylint'
SANITY_PYTHON_PATH := $(shell $(CURDIR)/scripts/python-bins.sh 2>/dev/null)
SANITY_OPTS ?=
SANITY_ENV := HOME=$(TEST_HOME) \
	PATH="$(if $(SANITY_PYTHON_PATH),$(SANITY_PYTHON_PATH):)$(VBIN):$$PATH" \
	ANSIBLE_TEST_CONTENT_ROOT=$(SANITY_DIR) \
	ANSIBLE_COLLECTIONS_PATH=$(SANITY_ROOT)

# Lint paths: only those that exist. bin/ holds extension-less Python scripts:
# ruff only picks those up when they are named, so they are listed one by one.
LINT_DIRS = $(wildcard plugins tests benchmarks examples scripts)
LINT_BIN  = $(shell for f in bin/*; do [ -f "$$f" ] && head -n1 "$$f" | grep -q python && echo "$$f"; done 2>/dev/null)
MYPY_DIRS = $(wildcard plugins/module_utils)

PYTEST_ARGS ?=
# pytest workers; an integration test file stays on one worker (its test bed is per file)
PYTEST_WORKERS ?= 2
ANSIBLE_LINT_ARGS ?=

# The demo: the model of the example service, then every generated file, validated.
DEMO_OUT ?= $(CURDIR)/demo-output
DEMO_REQ ?= examples/docs/07_REQ/REQ-14_order_intake_api.md
DEMO_RESULT ?= $(DEMO_OUT)/model.json
DEMO_TREE ?= $(DEMO_OUT)/order-intake-api

TEST_STEPS := lint unit integration sanity ansible-lint release-check
DIST := $(BUILD)/dist
EE_CONTEXT := $(BUILD)/ee

.PHONY: help test venv system-deps collection dirs sanity-tree lint unit integration sanity prime-sanity \
	ansible-lint release-check awx docs constraints demo clean distclean

help:
	@echo "Targets:"
	@echo "  test          system-deps, venv, then $(TEST_STEPS) (what CI runs)"
	@echo "  system-deps   install Debian packages from tests/system-packages.txt"
	@echo "  venv          .venv with requirements.txt + requirements-dev.txt, and .venv/bin/devops-flow"
	@echo "  collection    .build/ collection trees (symlink + ansible-test copy)"
	@echo "  lint          ruff check, ruff format --check, mypy plugins/module_utils"
	@echo "  unit          pytest tests/unit          (PYTEST_ARGS='-k name' to pick)"
	@echo "  integration   pytest tests/integration   (real hosts and servers; needs root)"
	@echo "  sanity        ansible-test sanity, offline (SANITY_OPTS='--test pep8' to pick)"
	@echo "  ansible-lint  ansible-lint, production profile"
	@echo "  release-check collection tarball + galaxy-importer, antsibull-docs and changelog lint, ansible-builder create"
	@echo "  awx           AWX job templates and surveys from the argument specs, in .build/awx"
	@echo "  docs          docs/reference/ from the modules', plugins', roles' and playbooks' documentation"
	@echo "  demo          parse the example documents and generate every file, in demo-output/"
	@echo "  clean         remove .build, demo-output, caches (keeps .venv)"
	@echo "  distclean     clean, and remove .venv"

# ---------------------------------------------------------------------------
# test: every step runs even when an earlier one fails, then a summary.
test: system-deps venv
	@failed=0; passed=0; summary=""; \
	for step in $(TEST_STEPS); do \
		start=$$SECONDS; \
		if $(MAKE) --no-print-directory $$step; then \
			passed=$$((passed + 1)); result=ok; \
		else \
			failed=$$((failed + 1)); result=FAILED; \
		fi; \
		summary="$$summary  $$step: $$result ($$((SECONDS - start)) s)\n"; \
	done; \
	echo; echo "make test summary:"; printf "$$summary"; \
	echo "steps: $$passed passed, $$failed failed"; \
	[ $$failed -eq 0 ]

# ---------------------------------------------------------------------------
system-deps:
	@$(CURDIR)/scripts/install-system-deps.sh $(CURDIR)/tests/system-packages.txt

# ---------------------------------------------------------------------------
# The virtual environment. Reinstalls only when a requirements file changes;
# recreated when its interpreter no longer runs or is older than 3.12.
venv: $(VENV_STAMP) $(LAUNCHER) $(CHECKOV)

$(VENV_STAMP): requirements.txt requirements-dev.txt requirements-validators.txt requirements-constraints.txt
	@if [ -x "$(PY)" ] && "$(PY)" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		echo "venv: updating $(VENV)"; \
	else \
		python="$$($(CURDIR)/scripts/find-python.sh)"; \
		echo "venv: creating $(VENV) with $$python"; \
		rm -rf "$(VENV)"; \
		"$$python" -m venv "$(VENV)"; \
	fi
	"$(PY)" -m pip install --quiet --upgrade pip
	"$(PY)" -m pip install --quiet -c requirements-constraints.txt \
		-r requirements.txt -r requirements-dev.txt -r requirements-validators.txt
	@touch $@

# Pins every package of .venv as it is now (after a requirements file changed and
# `make venv` installed it) into requirements-constraints.txt.
constraints: $(VENV_STAMP)
	@{ echo "# Versions .venv was tested with: pip installs with -c, so resolution is immediate and every"; \
	   echo "# run gets the same tools. Regenerate after changing a requirements file: make constraints"; \
	   "$(PY)" -m pip freeze --exclude-editable | grep -v " @ "; } > requirements-constraints.txt

# checkov in its own environment (its HCL parser clashes with python-hcl2 in .venv),
# linked into .venv/bin so that validators find it on the venv's PATH.
$(CHECKOV_STAMP): requirements-checkov.txt
	@if ! [ -x "$(CHECKOV_VENV)/bin/python" ]; then \
		python="$$($(CURDIR)/scripts/find-python.sh)"; \
		echo "venv: creating $(CHECKOV_VENV) with $$python"; \
		"$$python" -m venv "$(CHECKOV_VENV)"; \
	fi
	"$(CHECKOV_VENV)/bin/python" -m pip install --quiet --upgrade pip
	"$(CHECKOV_VENV)/bin/python" -m pip install --quiet -r requirements-checkov.txt
	@touch $@

$(CHECKOV): $(CHECKOV_STAMP) $(VENV_STAMP)
	@ln -sfn "$(CHECKOV_VENV)/bin/checkov" $@

# Launcher for the CLI (bin/devops-flow is the real program; it may not exist yet).
# The collection tree goes on PYTHONPATH so `import ansible_collections.sdd.devops_flow`
# works without installing the collection.
$(LAUNCHER): $(VENV_STAMP) Makefile
	@printf '%s\n' \
		'#!/bin/sh' \
		'# Generated by the Makefile (make venv): runs bin/devops-flow of this checkout.' \
		'PYTHONPATH="$(COLL_ROOT)$${PYTHONPATH:+:$$PYTHONPATH}"' \
		'export PYTHONPATH' \
		'exec "$(PY)" "$(CURDIR)/bin/devops-flow" "$$@"' > $@
	@chmod +x $@

# ---------------------------------------------------------------------------
collection: dirs sanity-tree

# The link and the state folders, made again on every run (cheap, idempotent):
#  - COLL_LINK -> ../../../.. (relative, so it survives moving the checkout);
#  - ANSIBLE_HOME/collections -> ../collections: ansible-lint "installs" the
#    collection it lints into $$ANSIBLE_HOME/collections; through this link it
#    finds the symlinked checkout there and skips the install, instead of
#    copying the repository and then warning about two versions of it;
#  - TEST_HOME/.ansible -> ANSIBLE_HOME (see TEST_HOME).
dirs:
	@mkdir -p $(dir $(COLL_LINK)) $(ANSIBLE_HOME) $(ANSIBLE_LOCAL_TEMP) $(TEST_HOME)
	@[ "$$(readlink $(COLL_LINK))" = "../../../.." ] || { rm -rf $(COLL_LINK); ln -s ../../../.. $(COLL_LINK); }
	@[ "$$(readlink $(ANSIBLE_HOME)/collections)" = "../collections" ] || \
		{ rm -rf $(ANSIBLE_HOME)/collections; ln -s ../collections $(ANSIBLE_HOME)/collections; }
	@[ "$$(readlink $(TEST_HOME)/.ansible)" = "../ansible-home" ] || \
		{ rm -rf $(TEST_HOME)/.ansible; ln -s ../ansible-home $(TEST_HOME)/.ansible; }

# An exact copy of what git would list: .gitignore rules apply (dir-merge), and
# .git, .venv, .build and caches are left out. --delete removes files deleted
# here; tests/output (ansible-test's results) is kept.
sanity-tree: system-deps
	@mkdir -p $(SANITY_DIR)
	@rsync -a --delete --delete-excluded \
		--exclude=/.git --exclude=/.venv --exclude=/.venv-checkov --exclude=/.build --exclude=/demo-output \
		--exclude=__pycache__ --exclude='*.py[co]' --exclude=.mypy_cache --exclude=.ruff_cache \
		--exclude=.pytest_cache --exclude=.hypothesis --exclude=/.ansible --exclude=/.cache \
		--filter='protect /tests/output/' --exclude=/tests/output \
		--filter=':- .gitignore' \
		$(CURDIR)/ $(SANITY_DIR)/

# ---------------------------------------------------------------------------
lint: venv dirs
	@paths="$(strip $(LINT_DIRS) $(LINT_BIN))"; \
	if [ -z "$$paths" ]; then echo "lint: nothing to lint yet"; exit 0; fi; \
	rc=0; \
	echo "ruff check $$paths"; "$(VBIN)/ruff" check $$paths || rc=1; \
	echo "ruff format --check $$paths"; "$(VBIN)/ruff" format --check $$paths || rc=1; \
	if [ -n "$(MYPY_DIRS)" ] && [ -n "$$(find $(MYPY_DIRS) -name '*.py' -print -quit)" ]; then \
		echo "mypy $(MYPY_DIRS)"; \
		( cd $(COLL_ROOT) && "$(VBIN)/mypy" --config-file "$(CURDIR)/pyproject.toml" \
			--cache-dir "$(BUILD)/mypy-cache" \
			ansible_collections/$(NAMESPACE)/$(COLLECTION)/plugins/module_utils ) || rc=1; \
	fi; \
	exit $$rc

# pytest's exit code 5 (no test collected) fails: a test step that ran no test
# is not a pass.
# Integration tests start real servers and hosts (network namespaces with sshd, moto,
# haproxy, Prometheus, PostgreSQL): they need root and the packages of
# tests/system-packages.txt.
integration: venv dirs
	PYTHONPATH="$(COLL_ROOT)$${PYTHONPATH:+:$$PYTHONPATH}" \
		"$(VBIN)/pytest" -p no:cacheprovider -n $(PYTEST_WORKERS) --durations=25 --dist loadfile tests/integration $(PYTEST_ARGS)

unit: venv dirs
	PYTHONPATH="$(COLL_ROOT)$${PYTHONPATH:+:$$PYTHONPATH}" \
		"$(VBIN)/pytest" -p no:cacheprovider -n $(PYTEST_WORKERS) --durations=25 --dist loadscope tests/unit $(PYTEST_ARGS)

# ---------------------------------------------------------------------------
# ansible-test sanity, offline. prime-sanity writes the get-pip stand-in and
# creates ansible-test's venvs (quick when they exist).
prime-sanity: venv sanity-tree dirs
	cd $(SANITY_DIR) && $(SANITY_ENV) PYTHON="$(PY)" ANSIBLE_TEST="$(VBIN)/ansible-test" \
		CACHE_DIR="$(ANSIBLE_HOME)/test/cache" \
		$(CURDIR)/scripts/prime-ansible-test.sh $(SANITY_OPTS)

sanity: prime-sanity
	cd $(SANITY_DIR) && $(SANITY_ENV) "$(VBIN)/ansible-test" sanity --color no $(SANITY_OPTS)

# ---------------------------------------------------------------------------
# ansible-lint in the collection root (its real path is this checkout; the
# collection is found through .build/collections). Config: .ansible-lint.
# Not --offline: it then cannot resolve the collection being linted.
ansible-lint: venv dirs
	cd $(COLL_LINK) && color=; [ -t 1 ] || color=--nocolor; \
		PATH="$(VBIN):$$PATH" XDG_CACHE_HOME=$(BUILD)/cache \
		"$(VBIN)/ansible-lint" --profile production $$color $(ANSIBLE_LINT_ARGS)

# ---------------------------------------------------------------------------
# What Galaxy and AWX users get: the tarball that `ansible-galaxy collection build` makes,
# checked by galaxy-importer (the checks Galaxy runs on upload; settings in
# tests/galaxy-importer.cfg), the plugin documentation checked by antsibull-docs, the
# changelog fragments by antsibull-changelog, and an execution environment build context made
# by ansible-builder (building the image needs a container engine).
release-check: venv dirs
	rm -rf $(DIST) $(EE_CONTEXT) && mkdir -p $(DIST)
	"$(VBIN)/ansible-galaxy" collection build --output-path $(DIST) $(CURDIR)
	cd $(DIST) && PATH="$(VBIN):$$PATH" GALAXY_IMPORTER_CONFIG=$(CURDIR)/tests/galaxy-importer.cfg \
		"$(PY)" -m galaxy_importer.main $(DIST)/$(NAMESPACE)-$(COLLECTION)-*.tar.gz
	cd $(COLL_LINK) && PATH="$(VBIN):$$PATH" "$(VBIN)/antsibull-docs" lint-collection-docs --plugin-docs .
	"$(VBIN)/antsibull-changelog" lint
	"$(VBIN)/ansible-builder" create -f extensions/ee/execution-environment.yml -c $(EE_CONTEXT)
	"$(VBIN)/ansible-builder" introspect --sanitize $(COLL_ROOT) > $(BUILD)/ee-introspect.yml
	@grep -q "from collection $(NAMESPACE).$(COLLECTION)" $(BUILD)/ee-introspect.yml || \
		{ echo "release-check: ansible-builder found no requirements of $(NAMESPACE).$(COLLECTION)"; exit 1; }
	@echo "release-check: $$(ls $(DIST)/*.tar.gz) imports cleanly; EE build context in $(EE_CONTEXT)"

awx: venv dirs
	$(LAUNCHER) awx-surveys --output $(BUILD)/awx

# docs/reference/: pages rendered from the modules', plugins', roles' and playbooks' own
# documentation (a unit test fails when they are out of date).
docs: venv
	"$(PY)" scripts/reference_docs.py

# ---------------------------------------------------------------------------
demo: venv dirs
	@mkdir -p $(DEMO_OUT)
	$(LAUNCHER) parse --req $(DEMO_REQ) > $(DEMO_RESULT)
	$(LAUNCHER) generate-all --req $(DEMO_REQ) --output $(DEMO_TREE)
	@echo "demo: the model is in $(DEMO_RESULT); the generated and validated files are in $(DEMO_TREE)"

# ---------------------------------------------------------------------------
clean:
	rm -rf $(BUILD) $(DEMO_OUT) tests/output .mypy_cache .ruff_cache .pytest_cache .hypothesis .ansible
	find . \( -path ./.venv -o -path ./.venv-checkov \) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(CHECKOV_VENV)
