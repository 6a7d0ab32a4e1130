#!/usr/bin/env bash
# Makes sure redis-server is on PATH for the shared-state tests (test/state/, test/app/replicas.test.ts), which
# start their own throwaway servers on 127.0.0.1 (test/helpers/redis-server.ts).
# Installs Debian's redis-server package with apt-get when it is missing; does nothing when it is there.
# Needs root (or sudo) only when it has to install.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-redis: redis-server is not installed and apt-get is not available; install redis-server by hand" >&2
  exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
  else
    echo "ensure-redis: redis-server is not installed and installing it needs root (no sudo found)" >&2
    exit 1
  fi
fi

echo "ensure-redis: installing redis-server with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
# --no-install-recommends: the server binary is all the tests need (no redis-tools, no service setup extras).
"${as_root[@]}" apt-get install -y -qq --no-install-recommends redis-server >/dev/null

if ! command -v redis-server >/dev/null 2>&1; then
  echo "ensure-redis: apt-get finished but redis-server is still not on PATH" >&2
  exit 1
fi
echo "ensure-redis: $(redis-server --version)" >&2
