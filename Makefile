# cartlink: the two commands of a fresh machine are `make run` and `make test`.

CARGO ?= cargo
VENV := .venv
MOTO_VERSION := 5.2.5
export AWS_LC_SYS_NO_JITTER_ENTROPY := 1
# playwright-core drives Debian's Chromium; it must never try to download a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test test-deps lint unit e2e browser

## Runs cartlink on 127.0.0.1:3000 with the embedded adapters and the sandbox cart.
run:
	$(CARGO) run --quiet -p cartlink-local

## Installs what the tests need, then runs lint, unit, end-to-end and browser tests.
test: test-deps lint unit e2e browser

## moto's server (an AWS emulator) in a virtual environment under the ignored .venv/.
$(VENV)/bin/moto_server:
	python3 -m venv $(VENV) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	$(VENV)/bin/pip install -q --disable-pip-version-check 'moto[server]==$(MOTO_VERSION)'

## Node and npm, Debian's Chromium and sqlite3 (each only if missing), moto, and the npm test peers.
test-deps: $(VENV)/bin/moto_server
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { \
		echo "node $$(node --version) is too old: oidc-provider and playwright-core need Node 20 or later" >&2; exit 1; }
	@test -x /usr/bin/chromium && command -v sqlite3 >/dev/null || { \
		start=$$(date +%s); \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			-o DPkg::Lock::Timeout=600 chromium sqlite3 >/dev/null && \
		echo "installed chromium and sqlite3 in $$(( $$(date +%s) - start )) s"; }
	npm ci --prefix tests --no-audit --no-fund --loglevel=error

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings

unit:
	$(CARGO) test --workspace --exclude cartlink-e2e

e2e:
	$(CARGO) build --quiet -p cartlink-local
	$(CARGO) test -p cartlink-e2e

## The grant page, the state pages and the emails in headless Chromium (tests/browser/).
## Screenshots go to tests/output/browser/.
browser:
	$(CARGO) build --quiet -p cartlink-local
	node --test --test-concurrency=1 --test-timeout=120000 --test-reporter=spec tests/browser/*.test.mjs
