# ironplan: the two commands a new user needs are `make demo` and `make test`.
#
# One target directory, outside the clone, shared by every build and by CI runs on the same
# machine (the AWS SDK crates take ~10 minutes to build from scratch). Override freely.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/ironplan/target
BIN := $(CARGO_TARGET_DIR)/debug/ironplan
VENV := .venv
MOTO := $(VENV)/bin/moto_server
MOTO_VERSION := 5.2.5

.PHONY: demo test build venv lint fmt plan chaos bench clean help

help:
	@echo "make demo   deploy the 56-resource pipeline to a local AWS emulator, show outputs, tear down"
	@echo "make test   format check, unit tests, plan fixtures, and end-to-end tests against the emulator"
	@echo "make lint   cargo fmt --check and clippy -D warnings"
	@echo "make plan   dry run of plans/healthcare-pipeline.toml"
	@echo "make chaos  every one of the 56 creates fails in turn; each run must leave nothing (a few minutes)"
	@echo "make bench  policy models, the emulator with its latency model, and scale runs (release build: ~15 min the first time)"

# The local AWS emulator (moto), in a project-local virtualenv.
venv: $(MOTO)
$(MOTO):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'moto[server]==$(MOTO_VERSION)'
	@touch $(MOTO)

build:
	cargo build --all-targets

test: venv
	cargo fmt --all -- --check
	$(VENV)/bin/python scripts/test_faultproxy.py
	cargo test --all-targets

chaos: venv
	cargo test --test it -- --ignored chaos_every_create_fails_in_turn --nocapture

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

fmt:
	cargo fmt --all

plan: build
	$(BIN) plan

demo: venv
	cargo build
	./scripts/demo.sh $(BIN)

# Release build: the first run compiles the AWS SDK crates again, optimised (~15 minutes).
# The latency model's self-test checks wall-clock windows of 1-2 s: it runs here, on a quiet
# machine before the benchmark, not in `make test`, where CPU load made it flaky. Both take the
# types' durations from the project (`ironplan types --format json`).
bench: venv
	cargo build --release --bins --examples
	$(CARGO_TARGET_DIR)/release/ironplan types --format json > $(CARGO_TARGET_DIR)/types.json
	$(VENV)/bin/python scripts/test_latency.py $(CARGO_TARGET_DIR)/types.json
	$(CARGO_TARGET_DIR)/release/examples/bench

clean:
	rm -rf $(VENV) .ironplan
