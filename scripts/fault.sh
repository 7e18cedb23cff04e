#!/usr/bin/env bash
# The fault-injection suite (docs/reliability.md): every scenario, full length, against the
# real stack (started if needed) plus the suite's private servers (a 3-broker cluster on
# 29092-29097, 29092-29103 with the proxy ports of scenario i, and a registry on 28081, started
# and stopped by the tests themselves; RENKEI_FAULT_CLUSTER_PORT / RENKEI_FAULT_REGISTRY_PORT
# move them when another run uses those ports).
# Extra arguments go to pytest (e.g. scripts/fault.sh -k registry, scripts/fault.sh -k test_i_).
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
