#!/usr/bin/env bash
# The whole test suite, as CI runs it: lint, types, build, migration checks on both dialects,
# the OpenAPI document's lint (Spectral), unit tests, then end-to-end tests against real MariaDB
# (MARIADB_TEST_URL, default root@127.0.0.1), the Swagger UI test in headless Chromium among them,
# then the fault suite (database cut, paused, failing; an instance killed) with its invariant checker,
# then, when galera-4 is installed, the Galera suite (a three-node cluster started by the test).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "lint (zero warnings)";            npm run --silent lint
step "typecheck";                       npm run --silent typecheck
step "build";                           npm run --silent build
step "migration check: sqlite, mariadb"; npm run --silent migration:check
step "OpenAPI lint (Spectral: oas, OWASP)"; bash scripts/openapi-lint.sh
step "unit tests";                      npm run --silent test:unit
step "e2e tests (MariaDB, SQLite)";     npm run --silent test:e2e
step "fault suite (MariaDB through a relay)"; npm run --silent test:faults
step "attack suite (MariaDB)";          npm run --silent test:security
if [[ -e /usr/lib/galera/libgalera_smm.so ]]; then
  step "Galera suite (three-node cluster, two instances)"; npm run --silent test:galera
else
  step "Galera suite skipped: galera-4 is not installed (scripts/ensure-debs.sh installs it)"
fi
