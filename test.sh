#!/usr/bin/env bash
# Sets up everything the tests need and runs them all: a virtualenv with the pinned packages, and
# the Debian packages the tests use when they are missing: chromium (driven by Playwright) for the
# browser tests, libseccomp2 for the query worker's seccomp filter, strace for the fuzzer's
# system-call watch, and node with npm to rebuild the browser bundles from their lockfile (the test that
# the committed bundles match their sources).
set -euo pipefail
cd "$(dirname "$0")"
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-wqy-microhei)
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2' || missing+=(libseccomp2)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -m venv .venv
. .venv/bin/activate
pip install -q -r requirements-test.txt
pip install -q -e .
if [ $# -gt 0 ]; then      # the tests named, as pytest reads them
  python -m pytest -q "$@"
else                       # every test: two workers (the browser tests share one), then the timing tests alone
  python -m pytest -q -n 2 --dist loadgroup -m "not timing"
  python -m pytest -q -m timing
fi
