# template.yaml: validate and build. Included by the root Makefile, which defines VENV (.venv) and
# the `tools` target that creates the venv (requirements-dev.txt, requirements-validate.txt).
#
# Everything runs offline: the validators only need a region, and cargo-lambda brings its own zig.

TEMPLATE      ?= template.yaml
SAM_BUILD_DIR ?= .aws-sam/build
# A region and no telemetry are all the validators need; $(VENV)/bin first on PATH gives SAM
# the pinned cargo-lambda (and its zig) for BuildMethod rust-cargolambda.
TEMPLATE_ENV  = SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
                PATH="$(abspath $(VENV))/bin:$$PATH"

.PHONY: validate lint-template build build-lambdas

## validate: the template linters, then the template/schema drift test
validate: lint-template
	cargo test -q -p template-check

## lint-template: cfn-lint, sam validate --lint, checkov (skips in .checkov.yaml)
lint-template: tools
	$(TEMPLATE_ENV) $(VENV)/bin/cfn-lint $(TEMPLATE)
	$(TEMPLATE_ENV) $(VENV)/bin/sam validate --lint --template-file $(TEMPLATE)
	$(TEMPLATE_ENV) $(VENV)/bin/checkov -f $(TEMPLATE) --framework cloudformation --skip-download \
		--config-file .checkov.yaml --quiet

## build: sam build, every function cross-built for arm64 by cargo-lambda (BuildMethod rust-cargolambda)
# SAM CLI still marks rust-cargolambda as a beta feature; the variable accepts it without a prompt.
build: tools
	$(TEMPLATE_ENV) SAM_CLI_BETA_RUST_CARGO_LAMBDA=1 $(VENV)/bin/sam build --template-file $(TEMPLATE) \
		--build-dir $(SAM_BUILD_DIR) --beta-features

## build-lambdas: the bootstrap binaries alone (target/lambda/<binary>/bootstrap), without SAM
build-lambdas: tools
	$(TEMPLATE_ENV) cargo lambda build --release --arm64
