# connect-lake: the verbs. `make test` and `make demo` work on a fresh machine: the project's own
# files install everything they need (pinned) into the git-ignored .venv.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c

VENV    := .venv
PYTHON  ?= python3
CARGO   ?= cargo
PROFILE ?= debug
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
DEMO_ARGS ?=

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export MOTO_SERVER := $(CURDIR)/$(VENV)/bin/moto_server
export SAM_CLI_TELEMETRY := 0
export CARGO_TERM_COLOR ?= never
# CI builds once from scratch: incremental state would only fill the disk.
ifdef CI
  export CARGO_INCREMENTAL := 0
endif

ifeq ($(PROFILE),debug)
  PROFILE_FLAG :=
else
  PROFILE_FLAG := --profile $(PROFILE)
endif

.PHONY: help tools constraints chromium test unit demo bench lint fmt clean

help:
	@echo "make demo   - the whole lake on this machine: synthetic traffic through the real functions"
	@echo "make test   - every test: unit, property, emulator and end-to-end"
	@echo "make bench  - benchmarks (release build)"
	@echo "make lint   - rustfmt check and clippy -D warnings"
	@echo "make tools  - install the local tooling (moto, cargo-lambda, validators) into $(VENV)"

# The Python tools: moto (the AWS emulator), cargo-lambda, and the template validators, every
# package pinned by constraints.txt.
tools: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt constraints.txt $(wildcard requirements-validate.txt)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt \
		-r requirements-dev.txt $(if $(wildcard requirements-validate.txt),-r requirements-validate.txt)
	touch $@

# Re-pins every package after a change to a requirements file.
constraints:
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt $(if $(wildcard requirements-validate.txt),-r requirements-validate.txt)
	{ echo "# Every Python package of the project venv, pinned (pip freeze). Regenerate with 'make constraints'."; \
	  $(VENV)/bin/pip freeze --all | grep -v -E '^(pip|setuptools|wheel)=='; } > constraints.txt
	touch $(VENV)/.installed

# Headless Chromium, for the test that renders `lakectl report` in a real browser: Debian's
# package, installed once (CI runs as root on a fresh Debian-based machine).
chromium:
	if [ -x /usr/bin/chromium ]; then exit 0; fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The template linters first, so the test runner's summary is the last thing printed.
test: tools chromium
	$(CARGO) fmt --all --check
	$(MAKE) lint-template
	# `--tests` turns on the dev-dependencies' features, as the test run does: without it every
	# dependency whose features differ compiles twice, which costs CI minutes and gigabytes.
	$(CARGO) build --locked --workspace --bins --tests
	if command -v cargo-nextest >/dev/null; then
		$(CARGO) nextest run --locked --workspace --no-fail-fast
	else
		$(CARGO) test --locked --workspace --no-fail-fast
	fi

demo: tools
	$(CARGO) build --locked $(PROFILE_FLAG) --workspace --bins
	$(TARGET_DIR)/$(PROFILE)/lakectl demo $(DEMO_ARGS)

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf $(VENV)



# Release (Lambda profile: LTO, one codegen unit, abort on panic) builds of the measured binaries;
# the driver itself is built with the lighter `tooling` profile.
bench:
	$(CARGO) build --locked --release -p firehose-transform -p bench-lambdas
	# The optimised driver: `bench` and `bench-backfill`, without DataFusion (feature `backfill`).
	$(CARGO) build --locked --profile tooling -p lakectl --no-default-features --features backfill
	$(TARGET_DIR)/tooling/lakectl bench --bin-dir $(TARGET_DIR)/release
	$(CARGO) bench --locked -p fraud-router
	# The lake as readers see it: a backfilled Parquet lake, the named queries through Glue. The
	# driver is the debug build `make demo` uses (an optimised DataFusion build takes long on 2 cores).
	$(CARGO) build --locked -p lakectl
	$(TARGET_DIR)/debug/lakectl bench-lake --contacts 20000
	# The backfill, optimised: 20,000 and 50,000 contacts over 28 days, then >= 2 GB of input for peak memory.
	$(TARGET_DIR)/tooling/lakectl bench-backfill --contacts 20000 --contacts 50000 --memory-gb 2
-include $(wildcard mk/*.mk)
