#!/usr/bin/env bash
# Sets up everything the tests need and runs them all: a virtualenv with the pinned packages, and
# Debian's chromium (driven by Playwright) for the browser tests when it is missing.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
python3 -m venv .venv
. .venv/bin/activate
pip install -q -r requirements-test.txt
pip install -q -e .
python -m pytest -q "$@"
