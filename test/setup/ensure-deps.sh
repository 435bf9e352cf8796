#!/usr/bin/env bash
# Installs what cpobench needs and is missing: npm packages (from the lockfile) and, for the test suite,
# Debian's socat (pty pairs for serial tests), chromium (dashboard browser tests) and a standard VISA client,
# pyvisa with the pyvisa-py backend and pyserial (test/sim/bench-pyvisa.test.ts and `npm run bench:io`; they
# run Debian's interpreter, /usr/bin/python3, which is the one that sees Debian's python3-* packages), whose pty
# module also puts `cpobench run` on a real terminal in the TTY tests (test/helpers/pty-relay.py); for the VXI-11
# tests, rpcbind (the system portmapper: the tests start it in network namespaces of their own; when this script
# installs it, its service is disabled again, so the machine is not left serving port 111), lxi-tools (another
# standard VXI-11 client), iproute2 (`ip`, to bring up a namespace's loopback) and python3-zeroconf (an mDNS
# responder that announces instruments to `cpobench discover --mdns` inside a test's namespace); and postgresql
# (the fleet tests initdb a PostgreSQL of their own into a temporary folder; the service Debian would start is
# disabled again, as for rpcbind).
# Usage: ensure-deps.sh [--runtime]   (--runtime: only what `npm start` needs)
set -euo pipefail
cd "$(dirname "$0")/../.."

runtime_only=0
[ "${1:-}" = "--runtime" ] && runtime_only=1

stamp=node_modules/.cpobench-lock-stamp
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "[cpobench] installing npm packages from package-lock.json" >&2
  # `npm install --no-save` installs the locked versions without rewriting the lockfile. (`npm ci` would
  # refuse this lockfile: npm 11 leaves out the optional packages of other platforms, e.g. biome's.)
  npm install --no-save --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

missing=()
command -v socat >/dev/null 2>&1 || missing+=(socat)
if [ "$runtime_only" = 0 ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  # Debian's modules, checked with Debian's interpreter (a pyenv or venv python3 on PATH does not see them)
  /usr/bin/python3 -c 'import pyvisa_py' >/dev/null 2>&1 || missing+=(python3-pyvisa-py)
  /usr/bin/python3 -c 'import serial' >/dev/null 2>&1 || missing+=(python3-serial)
  [ -x /usr/bin/python3 ] || missing+=(python3)
  [ -x /usr/sbin/rpcbind ] || missing+=(rpcbind)
  command -v lxi >/dev/null 2>&1 || missing+=(lxi-tools)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  /usr/bin/python3 -c 'import zeroconf' >/dev/null 2>&1 || missing+=(python3-zeroconf)
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[cpobench] installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ " ${missing[*]} " == *" rpcbind "* ]] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now rpcbind.socket rpcbind.service >/dev/null 2>&1 || true
  fi
  if [[ " ${missing[*]} " == *" postgresql "* ]] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now postgresql.service >/dev/null 2>&1 || true
  fi
fi
