#!/usr/bin/env bash
# Installs what the PostgreSQL failover test needs from Debian's packages, when missing:
# Patroni (3.0), etcd (3.4), HAProxy (2.6) and PostgreSQL 15's server binaries. Idempotent,
# and quick when they are there.
# The test starts processes of its own, on loopback ports and in a folder of its own: the
# packages' services, if they run, are left alone.
set -euo pipefail

missing=()
command -v patroni >/dev/null 2>&1 || missing+=(patroni)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
# The members' PostgreSQL (the test points Patroni at /usr/lib/postgresql/15/bin).
[ -x /usr/lib/postgresql/15/bin/postgres ] || missing+=(postgresql-15)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "tests/ha/setup.sh: install ${missing[*]} (Debian/Ubuntu packages) to run the failover test" >&2
  exit 1
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "tests/ha/setup.sh: installing ${missing[*]}" >&2
timeout 600 "${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive timeout 600 "${sudo[@]}" apt-get install -y -qq \
  --no-install-recommends "${missing[@]}" >/dev/null
