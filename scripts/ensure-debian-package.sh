#!/usr/bin/env bash
# Usage: ensure-debian-package.sh <command> <debian package>
# Makes sure a program the tests start themselves is on PATH: redis-server for the shared-state tests (each starts
# its own throwaway server on 127.0.0.1, test/helpers/redis-server.ts), chromium for the status page's browser test.
# Installs Debian's package with apt-get when the command is missing; does nothing when it is there. Needs root (or
# sudo) only when it has to install.
set -euo pipefail

command_name="${1:?usage: ensure-debian-package.sh <command> <package>}"
package="${2:?usage: ensure-debian-package.sh <command> <package>}"
say() { echo "ensure-debian-package: $*" >&2; }

if command -v "$command_name" >/dev/null 2>&1; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  say "$command_name is not installed and apt-get is not available; install $package by hand"
  exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
  else
    say "$command_name is not installed and installing $package needs root (no sudo found)"
    exit 1
  fi
fi

say "installing $package with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
# --no-install-recommends: the program is all the tests need (no service setup extras, no fonts beyond its own).
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "$package" >/dev/null

if ! command -v "$command_name" >/dev/null 2>&1; then
  say "apt-get finished but $command_name is still not on PATH"
  exit 1
fi
say "$command_name is installed ($package)"
