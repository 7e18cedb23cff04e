#!/usr/bin/env bash
# System tools some tests need, from Debian's packages: promtool (package prometheus) checks the
# alert rules, chromium loads the staff web view and the data catalogue headless, a Japanese
# font (fonts-ipafont-gothic) keeps their Japanese from rendering as boxes in screenshots, the
# PostgreSQL server (package postgresql) is the department database of the change-data-capture
# tests (`renkei stack up --cdc`). Installs what is missing when it can (root + apt-get);
# otherwise says what to install. Safe to re-run.
set -euo pipefail
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || missing+=(postgresql)
[ -e /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] || missing+=(fonts-ipafont-gothic)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing ${missing[*]} (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null 2>&1
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  }
else
  echo "note: tests that need ${missing[*]} will fail under CI; install: apt-get install ${missing[*]}" >&2
fi
