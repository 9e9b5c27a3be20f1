# cartlink: the two commands of a fresh machine are `make run` and `make test`.

CARGO ?= cargo
VENV := .venv
MOTO_VERSION := 5.2.5
export AWS_LC_SYS_NO_JITTER_ENTROPY := 1
# playwright-core drives Debian's Chromium; it must never try to download a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

# Template checks: pinned tools in ignored virtual environments (checkov's pins clash with the
# SAM CLI's, so it has its own).
# The API checks: openapi-spec-validator and schemathesis, pinned, in their own venv.
API_VENV := .venv-api
SCHEMATHESIS_VERSION := 4.32.5
OPENAPI_SPEC_VALIDATOR_VERSION := 0.9.0
# The webhook receiver of the tests verifies with the Standard Webhooks reference library.
STANDARDWEBHOOKS_VERSION := 1.1.0
# The secret scan (tests/secrets/scan.py): Yelp's detect-secrets, pinned, in its own venv.
SECRETS_VENV := .venv-secrets
DETECT_SECRETS_VERSION := 1.5.0
INFRA_VENV := .venv-infra
CHECKOV_VENV := .venv-checkov
SAM_CLI_VERSION := 1.170.0
SAM_TRANSLATOR_VERSION := 1.115.0
CFN_LINT_VERSION := 1.58.0
CHECKOV_VERSION := 3.3.30
PYTEST_VERSION := 9.2.0
TEMPLATE := infra/template.yaml
TRANSFORMED := infra/build/template.json
INFRA_ENV := AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 SAM_CLI_TELEMETRY=0 \
	AWS_EC2_METADATA_DISABLED=true

# Release builds for Lambda (arm64): cargo-lambda and zig from PyPI; the aarch64 standard
# library from rustup, for the toolchain the tests use. Where rustup cannot download it, Debian's
# rustc-web and its arm64 standard library instead (that rustc compiles about half as fast).
BUILD_VENV := .venv-build
CARGO_LAMBDA_VERSION := 1.9.2
ZIGLANG_VERSION := 0.17.0
DEBIAN_RUSTC := /usr/bin/rustc
DEBIAN_AARCH64_STD := /usr/lib/rustlib/aarch64-unknown-linux-gnu/lib

.PHONY: run test test-deps secret-scan lint unit e2e browser infra-deps infra-check package package-deps \
	bench bench-quick

## Runs cartlink on 127.0.0.1:3000 with the embedded adapters and the sandbox cart.
run:
	$(CARGO) run --quiet -p cartlink-local

## Installs what the tests need, then runs lint, unit, end-to-end and browser tests and the
## template checks.
test: test-deps lint unit e2e browser infra-check bench-quick
# Under `make test` the roles are compared with what the end-to-end tests recorded: missing
# recordings fail instead of skipping (infra/tests/test_operations.py).
test: export CARTLINK_REQUIRE_AWS_OPERATIONS := 1

python-venv = python3 -m venv $(1) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && python3 -m venv $(1); }

## moto's server (an AWS emulator) in a virtual environment under the ignored .venv/.
$(VENV)/bin/moto_server:
	$(call python-venv,$(VENV))
	$(VENV)/bin/pip install -q --disable-pip-version-check 'moto[server]==$(MOTO_VERSION)'

## The API checks' tools (tests/tests/openapi.rs) and the webhook receiver's library
## (tests/peers/webhook_receiver.py).
API_STAMP := $(API_VENV)/.installed-$(SCHEMATHESIS_VERSION)-$(OPENAPI_SPEC_VALIDATOR_VERSION)-$(STANDARDWEBHOOKS_VERSION)
$(API_STAMP):
	$(call python-venv,$(API_VENV))
	$(API_VENV)/bin/pip install -q --disable-pip-version-check 'schemathesis==$(SCHEMATHESIS_VERSION)' \
		'openapi-spec-validator==$(OPENAPI_SPEC_VALIDATOR_VERSION)' \
		'standardwebhooks==$(STANDARDWEBHOOKS_VERSION)'
	touch $@

## Node and npm, Debian's Chromium, sqlite3 and a Japanese font (each only if missing), moto, the API checks' tools
## and the npm test peers.
test-deps: $(VENV)/bin/moto_server $(API_STAMP)
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { \
		echo "node $$(node --version) is too old: oidc-provider and playwright-core need Node 20 or later" >&2; exit 1; }
	@test -x /usr/bin/chromium && command -v sqlite3 >/dev/null || { \
		start=$$(date +%s); \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			-o DPkg::Lock::Timeout=600 chromium sqlite3 >/dev/null && \
		echo "installed chromium and sqlite3 in $$(( $$(date +%s) - start )) s"; }
	@# A Japanese font, so the Japanese pages render (and are measured at phone width) as a
	@# merchant's browser shows them, not as empty boxes.
	@fc-list :lang=ja | grep -q . || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq -o DPkg::Lock::Timeout=600 fonts-ipafont-gothic >/dev/null; }
	npm ci --prefix tests --no-audit --no-fund --loglevel=error

## The binaries: the local server, the command-line client and every Lambda function (one
## package per folder).
BINARIES := cartlink-local cartlink-cli $(notdir $(wildcard functions/*))

$(SECRETS_VENV)/.installed-$(DETECT_SECRETS_VERSION):
	$(call python-venv,$(SECRETS_VENV))
	$(SECRETS_VENV)/bin/pip install -q --disable-pip-version-check 'detect-secrets==$(DETECT_SECRETS_VERSION)'
	touch $@

## Every tracked file scanned for secrets; each finding that is not one is listed in
## tests/secrets/allowed.json with why.
secret-scan: $(SECRETS_VENV)/.installed-$(DETECT_SECRETS_VERSION)
	$(SECRETS_VENV)/bin/python tests/secrets/scan.py

## Formatting, clippy, and each binary compiled alone: a workspace build unifies the features
## of every member, so only a package built by itself shows a feature it forgot to ask for.
lint: secret-scan
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings
	@for p in $(BINARIES); do echo "cargo check -p $$p"; $(CARGO) check --quiet -p $$p || exit 1; done

unit:
	$(CARGO) test --workspace --exclude cartlink-e2e

## The AWS operations each function asks for while its handler runs are recorded under
## target/aws-operations/ (tests/src/aws_ops.rs); infra-check compares them with the roles.
e2e:
	$(CARGO) build --quiet -p cartlink-local -p cartlink-cli
	rm -rf target/aws-operations
	$(CARGO) test -p cartlink-e2e

## The benchmarks (bench/bench.sh): the callback's critical path and the local server under
## wrk, each beside a bare baseline from the same run; writes docs/benchmarks.md. QUICK=1 runs
## each briefly.
bench:
	bench/bench.sh

## The benchmarks in their quick mode, only to prove they still run: a benchmark never fails
## `make test` (the leading `-`), and the timeout bounds what it adds (about a minute).
bench-quick:
	-timeout 300 env QUICK=1 BENCH_OUT=target/bench/benchmarks-quick.md bench/bench.sh

## The grant page, the state pages and the emails in headless Chromium (tests/browser/).
## Screenshots go to tests/output/browser/.
browser:
	$(CARGO) build --quiet -p cartlink-local
	node --test --test-concurrency=1 --test-timeout=120000 --test-reporter=spec tests/browser/*.test.mjs

$(INFRA_VENV)/.installed-$(SAM_CLI_VERSION):
	$(call python-venv,$(INFRA_VENV))
	$(INFRA_VENV)/bin/pip install -q --disable-pip-version-check 'aws-sam-cli==$(SAM_CLI_VERSION)' \
		'aws-sam-translator==$(SAM_TRANSLATOR_VERSION)' 'cfn-lint==$(CFN_LINT_VERSION)' 'pytest==$(PYTEST_VERSION)'
	touch $@

$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION):
	$(call python-venv,$(CHECKOV_VENV))
	$(CHECKOV_VENV)/bin/pip install -q --disable-pip-version-check 'checkov==$(CHECKOV_VERSION)'
	touch $@

infra-deps: $(INFRA_VENV)/.installed-$(SAM_CLI_VERSION) $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

## The template checks, all offline: sam validate --lint (from the root, so it reads
## samconfig.toml), the SAM transform then cfn-lint on plain CloudFormation, checkov, and the
## security tests over the transformed template.
infra-check: infra-deps
	$(INFRA_ENV) $(INFRA_VENV)/bin/sam validate --lint
	$(INFRA_ENV) $(INFRA_VENV)/bin/python infra/tests/transform.py $(TEMPLATE) $(TRANSFORMED)
	$(INFRA_ENV) $(INFRA_VENV)/bin/cfn-lint $(TRANSFORMED)
	@echo "cfn-lint: no findings in $(TRANSFORMED)"
	$(INFRA_ENV) $(CHECKOV_VENV)/bin/checkov -f $(TEMPLATE) --framework cloudformation --skip-download --compact --quiet
	cd infra/tests && $(INFRA_ENV) ../../$(INFRA_VENV)/bin/python -m pytest -q -p no:cacheprovider

$(BUILD_VENV)/.installed-$(CARGO_LAMBDA_VERSION):
	$(call python-venv,$(BUILD_VENV))
	$(BUILD_VENV)/bin/pip install -q --disable-pip-version-check 'cargo-lambda==$(CARGO_LAMBDA_VERSION)' 'ziglang==$(ZIGLANG_VERSION)'
	touch $@

$(DEBIAN_AARCH64_STD):
	dpkg --add-architecture arm64
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rustc-web cargo-web
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"libstd-rust-web-dev:arm64=$$(dpkg-query -W -f='$${Version}' rustc-web)"

## The rustc that builds for arm64, written to target/package-rustc: rustup's, or Debian's.
target/package-rustc:
	mkdir -p target
	if rustup target add aarch64-unknown-linux-gnu; then command -v rustc > $@; \
	else $(MAKE) $(DEBIAN_AARCH64_STD) && echo $(DEBIAN_RUSTC) > $@; fi

package-deps: $(BUILD_VENV)/.installed-$(CARGO_LAMBDA_VERSION) $(INFRA_VENV)/.installed-$(SAM_CLI_VERSION) target/package-rustc

## Every Lambda function's package (`-p admin-api -p care …`).
FUNCTION_PACKAGES := $(foreach d,$(wildcard functions/*/Cargo.toml),-p $(notdir $(patsubst %/Cargo.toml,%,$(d))))

## Release builds of every function for Lambda arm64 (sam build, offline, no cache), then the
## size of each bootstrap. The ten are built first in one `cargo lambda build`, as `sam build`
## builds each (every dependency resolves alike in all ten: tests/tests/package_builds.rs), so
## two compile at a time where `sam build` would build one after another; it then finds each
## built.
package: package-deps
	PATH="$(CURDIR)/$(BUILD_VENV)/bin:$$PATH" RUSTC=$$(cat target/package-rustc) \
		cargo lambda build --release --arm64 $(FUNCTION_PACKAGES)
	PATH="$(CURDIR)/$(BUILD_VENV)/bin:$$PATH" RUSTC=$$(cat target/package-rustc) $(INFRA_ENV) \
		$(INFRA_VENV)/bin/sam build --beta-features
	@for f in .aws-sam/build/*Function/bootstrap; do \
		printf '%-52s %9d bytes  %s\n' "$$f" "$$(stat -c %s "$$f")" "$$(file -b "$$f" | cut -d, -f1-2)"; done
