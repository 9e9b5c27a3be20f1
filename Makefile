# cartlink: the two commands of a fresh machine are `make run` and `make test`.

CARGO ?= cargo
VENV := .venv
MOTO_VERSION := 5.2.5
export AWS_LC_SYS_NO_JITTER_ENTROPY := 1

.PHONY: run test test-deps lint unit e2e

## Runs cartlink on 127.0.0.1:3000 with the embedded adapters and the sandbox cart.
run:
	$(CARGO) run --quiet -p cartlink-local

## Installs what the tests need, then runs lint, unit and end-to-end tests.
test: test-deps lint unit e2e

## moto's server (an AWS emulator) in a virtual environment under the ignored .venv/.
$(VENV)/bin/moto_server:
	python3 -m venv $(VENV) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	$(VENV)/bin/pip install -q --disable-pip-version-check 'moto[server]==$(MOTO_VERSION)'

test-deps: $(VENV)/bin/moto_server
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
