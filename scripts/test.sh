#!/usr/bin/env bash
# Set up a fresh machine and run the linter and the whole test suite (CI runs exactly this).
# Installs the `test` extras into .venv; when no Chromium + chromedriver is found for the web
# page's browser test, or no PostgreSQL for the review queue's, installs Debian's with apt-get
# (sudo when not root) unless ROSENBLATT_NO_APT is set.
set -euo pipefail
cd "$(dirname "$0")/.."
found() { for name in "$@"; do command -v "$name" >/dev/null && return 0; done; return 1; }
browser_found() {
  { [ -n "${CHROME_BIN:-}" ] || found chromium chromium-browser google-chrome google-chrome-stable; } \
    && { [ -n "${CHROMEDRIVER:-}" ] || found chromedriver; }
}
if ! browser_found && [ -z "${ROSENBLATT_NO_APT:-}" ]; then
  echo "scripts/test.sh: no Chromium/chromedriver found: installing Debian's with apt-get" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
postgres_found() { found initdb || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
if ! postgres_found && [ -z "${ROSENBLATT_NO_APT:-}" ]; then
  # the shared review queue's tests start a real PostgreSQL server (Debian's package)
  echo "scripts/test.sh: no PostgreSQL found: installing Debian's with apt-get" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq postgresql >/dev/null
fi
python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'
.venv/bin/ruff check .
.venv/bin/python -m pytest -n 2
