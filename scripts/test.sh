#!/usr/bin/env bash
# The whole test suite, slow, integration and browser tests included. Run scripts/install.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f scripts/install-browser.sh ]; then bash scripts/install-browser.sh; fi
if [ -f scripts/install-postgres.sh ]; then bash scripts/install-postgres.sh; fi
export HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest "$@"
