#!/usr/bin/env bash
# The whole test suite, as CI runs it: lint, types, build, migration checks on both dialects,
# unit tests, then end-to-end tests against real MariaDB (MARIADB_TEST_URL, default root@127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "lint (zero warnings)";            npm run --silent lint
step "typecheck";                       npm run --silent typecheck
step "build";                           npm run --silent build
step "migration check: sqlite, mariadb"; npm run --silent migration:check
step "unit tests";                      npm run --silent test:unit
step "e2e tests (MariaDB, SQLite)";     npm run --silent test:e2e
