#!/usr/bin/env bash
# The test command: install, start the local stack (real Kafka + Apicurio Registry, and with
# --cdc PostgreSQL + Kafka Connect with Debezium for the change-data-capture tests), lint, and
# run unit and integration tests. Extra arguments go to pytest (e.g. scripts/test.sh -k publish).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/system-deps.sh
# The stack's department database on a port of its own: a PostgreSQL installed from Debian's
# package may already run its default cluster on 5432.
export RENKEI_CDC_DATABASE_PORT=${RENKEI_CDC_DATABASE_PORT:-55432}
echo "==> starting the local stack (renkei stack up --cdc)"
.venv/bin/renkei stack up --cdc
echo "==> ruff"
.venv/bin/ruff check services tests
echo "==> mypy (strict, services/renkei)"
.venv/bin/mypy
echo "==> pytest"
.venv/bin/pytest "$@"
