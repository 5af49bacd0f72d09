#!/usr/bin/env bash
# Install the console's JS dependencies from the lock file and build it into app/web/dist when its
# sources (or the GraphQL schema it is typed against) changed. Needs Node.js 20 and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "bootstrap: npm is missing: install Node.js 20 (with npm) to build the web console" >&2
  exit 1
fi
HASH="$( (cat web/package.json web/package-lock.json web/index.html web/*.ts web/*.js schema.graphql; \
          find web/src -type f | sort | xargs cat) | sha256sum | cut -c1-16)"
STAMP="web/node_modules/.recap-built-$HASH"
if [ ! -f "$STAMP" ] || [ ! -f app/web/dist/index.html ]; then
  echo "bootstrap: building the web console" >&2
  (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run -s build >/dev/null)
  rm -f web/node_modules/.recap-built-*
  touch "$STAMP"
fi
