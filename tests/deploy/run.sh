#!/usr/bin/env bash
# Deployment checks (deploy/): static validation of the Containerfile, Compose file,
# Kubernetes manifests and systemd unit; the binary run exactly as each of them runs it;
# backup and restore end to end. Called by tests/run; runs alone too:
#
#   cargo build -p balagh && bash tests/deploy/run.sh [pytest args]
#
# Installs its tools (PyPI only) into target/deploy-venv once; needs psql, pg_dump,
# pg_restore and sqlite3, and the PostgreSQL server of BALAGH_TEST_POSTGRES_URL.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/deploy-venv
requirements=tests/deploy/requirements.txt
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$stamp"; then
  echo "tests/deploy: installing the check tools into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

for tool in psql pg_dump pg_restore sqlite3; do
  command -v "$tool" >/dev/null || { echo "tests/deploy: $tool is not installed" >&2; exit 1; }
done

export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the work tree
export BALAGH_TEST_POSTGRES_URL="${BALAGH_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/deploy "$@"
