#!/usr/bin/env bash
# The fault-injection suite (docs/reliability.md): every scenario, full length, against the
# real stack (started if needed) plus the suite's private servers (a 3-broker cluster on
# 29092-29097 and a registry on 28081, started and stopped by the tests themselves).
# Extra arguments go to pytest (e.g. scripts/fault.sh -k registry).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/renkei stack up
export RENKEI_FAULT_FULL=1
export RENKEI_FAULT_BACKPRESSURE_SECONDS=${RENKEI_FAULT_BACKPRESSURE_SECONDS:-180}
results=${RENKEI_FAULT_RESULTS:-$PWD/.renkei/fault-results.txt}
mkdir -p "$(dirname "$results")"
: >"$results"
export RENKEI_FAULT_RESULTS=$results
status=0
.venv/bin/pytest tests/fault -m fault -s -p no:cacheprovider "$@" || status=$?
echo "==> fault results (also in $results)"
cat "$results"
exit "$status"
