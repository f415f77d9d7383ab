# touchlog: `make test` and `make demo` work on a fresh Debian 12 machine (as root they install
# dovecot-imapd, postgresql and chromium themselves). Python 3.11+ must be on PATH as python3 (or pass
# PYTHON=...).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: venv deps test demo bench bench-tiny clean

venv: $(BIN)/touchlog

# Re-installed when pyproject.toml changes; the stamp is the entry point pip writes.
$(BIN)/touchlog: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "touchlog needs Python 3.11+, $(PYTHON) is " + sys.version.split()[0])'
	@# Debian's python3 lacks the venv module until python3-venv is installed.
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# The IMAP tests and the demo run a real Dovecot, the PostgreSQL tests a throwaway cluster
# (tools/postgres.py, from Debian's postgresql server binaries), the web app's browser tests
# Debian's Chromium (headless); CI installs all three here when missing, with one apt-get update.
PG_BINS = $(wildcard /usr/lib/postgresql/*/bin/initdb)
deps:
	@pkgs=""; \
	if [ -x /usr/sbin/dovecot ]; then echo "dovecot: $$(/usr/sbin/dovecot --version)"; \
	else pkgs="$$pkgs dovecot-imapd openssl"; fi; \
	if [ -n "$(PG_BINS)" ]; then echo "postgresql: $$($(firstword $(PG_BINS)) --version)"; \
	else pkgs="$$pkgs postgresql"; fi; \
	if [ -x /usr/bin/chromium ]; then echo "chromium: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	else pkgs="$$pkgs chromium"; fi; \
	if [ -z "$$pkgs" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing$$pkgs"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs; \
	else echo "warning: not root, missing$$pkgs: their tests will be skipped" \
		"(sudo apt-get install$$pkgs)" >&2; fi

test: venv deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q

demo: venv deps
	./demo/run.sh

bench: venv
	@set -e; for f in bench/bench_*.py; do [ -e "$$f" ] || continue; \
		echo "== $$f"; $(BIN)/python "$$f"; done

# Every benchmark at a tiny size: checks they still run, measures nothing.
bench-tiny: venv
	@set -e; found=0; for f in bench/bench_*.py; do [ -e "$$f" ] || continue; found=1; \
		echo "== $$f --size tiny"; $(BIN)/python "$$f" --size tiny; done; \
	[ $$found = 1 ] || echo "no bench/bench_*.py yet"

clean:
	rm -rf $(VENV) demo/run .pytest_cache .ruff_cache .mypy_cache *.egg-info build
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
