#!/usr/bin/env bash
# Lints the OpenAPI document with Spectral (.spectral.yaml: spectral:oas and the OWASP API
# Security ruleset) and fails on any error. The document is built from the compiled app on a
# throw-away SQLite database (dist/src/http/cli/openapi-document.js), without a running server;
# run `npm run build` first (npm run openapi:lint does).
set -euo pipefail
cd "$(dirname "$0")/.."

# In dist/ (build output, not committed): .spectral.yaml's overrides name it.
document=dist/openapi.json
node dist/src/http/cli/openapi-document.js "$document"
npx --no-install spectral lint --ruleset .spectral.yaml --fail-severity error \
  --display-only-failures "$document"
