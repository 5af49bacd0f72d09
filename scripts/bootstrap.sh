#!/usr/bin/env bash
# Create .venv if missing and (re)install the project when pyproject.toml changed.
# Used by `make demo` and `make test`; safe to run again (a no-op when up to date).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "bootstrap: creating $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi
STAMP="$VENV/.recap-installed-$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
  echo "bootstrap: installing Recap and its dependencies into $VENV" >&2
  "$VENV/bin/pip" install -q --upgrade pip
  # torch is pinned; install it first so nothing pulls a CUDA build.
  "$VENV/bin/pip" install -q "torch==2.13.0"
  "$VENV/bin/pip" install -q -e ".[dev,tts,whisper-timestamped]"
  rm -f "$VENV"/.recap-installed-*
  touch "$STAMP"
fi
scripts/build-console.sh
