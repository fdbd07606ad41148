#!/usr/bin/env bash
# Property-based fuzzing of the whole HTTP API from the OpenAPI document the binary serves
# (schemathesis, from PyPI): every operation gets generated valid and invalid requests, as a
# resident's device, a commune staff administrator and an operator manager. Fails on any
# 5xx and on any answer the document does not describe (status, content type, schema).
#
#   bash tests/fuzz/schemathesis.sh            # ~4 minutes on 2 cores
#   FUZZ_SECONDS=600 bash tests/fuzz/schemathesis.sh   # longer, per pass
#
# Runs `balagh serve` on a scratch SQLite database (demo data), rate limits off. Installs
# schemathesis into target/schemathesis-venv once. Reports (JUnit, NDJSON) and the server
# log go to target/schemathesis-report/. Set BALAGH_BIN to fuzz a given binary.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv="$PWD/target/schemathesis-venv"
requirements=tests/fuzz/requirements.txt
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/schemathesis" ] || ! cmp -s "$requirements" "$stamp"; then
  echo "tests/fuzz: installing schemathesis into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

bin="${BALAGH_BIN:-}"
if [ -z "$bin" ]; then
  cargo build -p balagh --quiet
  bin="$PWD/target/debug/balagh"
fi
seconds="${FUZZ_SECONDS:-70}"
seed="${FUZZ_SEED:-20261122}"
report="$PWD/target/schemathesis-report"
rm -rf "$report"
mkdir -p "$report"

scratch="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

cat > "$scratch/balagh.toml" <<TOML
database_url = "sqlite://$scratch/fuzz.sqlite3"
[http.rate_limits]
per_ip_per_second = 0
device_writes_per_second = 0
device_lookups_per_second = 0
[devices]
new_per_address_per_hour = 0
supports_per_address_per_report = 0
[photos]
local_dir = "$scratch/photos"
TOML
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
(cd "$scratch" && exec env -u BALAGH_DATABASE_URL RUST_LOG=info,tower_http=warn \
  "$bin" serve --config "$scratch/balagh.toml" --listen "127.0.0.1:$port" --log-format json) \
  2> "$report/server.log" &
server_pid=$!
for _ in $(seq 1 600); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$report/server.log" >&2; exit 1; }
  sleep 0.1
done

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

device="$(curl -fsS -X POST "$base/api/v1/devices" | json_field token)"

# A user with a role, logged in, and a personal API token for it.
api_token() {  # email role [--operator slug]
  local email="$1" role="$2"; shift 2
  echo "fuzzing passphrase $email" | (cd "$scratch" && "$bin" create-user --config "$scratch/balagh.toml" \
    --email "$email" --name "Fuzz $role" --role "$role" "$@" 2>/dev/null)
  local jar="$scratch/cookies-$role"
  local csrf
  csrf="$(curl -fsS -c "$jar" -H 'content-type: application/json' \
    -d "{\"email\": \"$email\", \"password\": \"fuzzing passphrase $email\"}" \
    "$base/api/v1/auth/login" | json_field csrf_token)"
  curl -fsS -b "$jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
    -d '{"name": "schemathesis"}' "$base/api/v1/me/tokens" | json_field token
}
staff="$(api_token admin@fuzz.test staff_admin)"
operator="$(api_token manager@fuzz.test operator_manager --operator nadafa-demo)"

st="$venv/bin/schemathesis"
checks="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
status=0
pass() {  # name token filter...
  local name="$1" token="$2"; shift 2
  echo "==> schemathesis as $name (${seconds} s)"
  # From the scratch directory: schemathesis keeps a cache (.schemathesis/) in the working
  # directory, which must not land in the repository.
  (cd "$scratch" && "$st" run "$base/api/openapi.json" \
    --checks "$checks" \
    --header "Authorization: Bearer $token" \
    --max-time "$seconds" --workers 1 --seed "$seed" \
    --request-timeout 20 --no-color \
    --report junit,ndjson --report-dir "$report/$name" \
    --warnings off --generation-database none \
    "$@") || status=$?
}
# One worker: CPython 3.11's parser is not thread-safe under schemathesis' lambdas ("AST
# constructor recursion depth mismatch"), and the server has the other core.
# Residents' and public operations with a device token; staff's and operators' with theirs (each
# pass also tries the others' operations: a 401/403 is an answer the document describes).
pass device "$device" --exclude-tag staff --exclude-tag accounts --exclude-tag sla \
  --exclude-tag open311 --exclude-tag operator
pass staff "$staff" --include-tag staff --include-tag accounts --include-tag sla \
  --include-tag open311 --include-tag notices --include-tag sms
pass operator "$operator" --include-tag operator --include-tag sla

if grep -q '"level":"ERROR"' "$report/server.log"; then
  echo "tests/fuzz: the server logged errors (see $report/server.log):" >&2
  grep '"level":"ERROR"' "$report/server.log" | head -20 >&2
  status=1
fi
exit "$status"
