# cartlink: the two commands of a fresh machine are `make run` and `make test`.

CARGO ?= cargo
export AWS_LC_SYS_NO_JITTER_ENTROPY := 1

.PHONY: run test test-deps lint unit e2e

## Runs cartlink on 127.0.0.1:3000 with the embedded adapters and the sandbox cart.
run:
	$(CARGO) run --quiet -p cartlink-local

## Installs what the tests need, then runs lint, unit and end-to-end tests.
test: test-deps lint unit e2e

test-deps:
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	npm ci --prefix tests --no-audit --no-fund --loglevel=error

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings

unit:
	$(CARGO) test --workspace --exclude cartlink-e2e

e2e:
	$(CARGO) build --quiet -p cartlink-local
	$(CARGO) test -p cartlink-e2e
