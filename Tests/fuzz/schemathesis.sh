#!/usr/bin/env bash
# Fuzzes the admin API from Sources/Admin/openapi.yaml with schemathesis (PyPI), against a
# live server on loopback: the AdminTests fixture (embedded Kafka cluster, temporary SQLite
# ledger, a copy of Topics/, lanes running) served by the AdminFuzzServer test. Fails on any
# 5xx, on a route that answers without its token, on schema-invalid input that is accepted,
# on a status, content type, header or body the document does not declare, and on a server
# that dies. (Not checked: positive_data_acceptance, since cross-field rules such as "until
# after since" or an unknown lane are 400s the schema cannot express; unsupported_method,
# since an undeclared method gets 404, not 405.)
#
#   Tests/fuzz/schemathesis.sh [SECONDS]     default 60; an hour: Tests/fuzz/schemathesis.sh 3600
#   SCHEMATHESIS_CHECKS=all Tests/fuzz/schemathesis.sh    every schemathesis check
#
# Needs the test build (`swift build --build-tests`). schemathesis goes into .venv-fuzz/
# (gitignored) on first use; examples it found are kept in .venv-fuzz/examples and tried first
# next time.
set -euo pipefail
cd "$(dirname "$0")/../.."
budget="${1:-60}"
venv=.venv-fuzz
if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'schemathesis==4.32.*'
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
    touch "$work/port.stop"
    if [ -n "$server_pid" ]; then wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

PLANTROUTER_FUZZ_PORT_FILE="$work/port" swift test --skip-build --filter AdminFuzzServer >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
    [ -s "$work/port" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "schemathesis: the admin server exited before listening:" >&2
        cat "$work/server.log" >&2
        exit 1
    fi
    sleep 0.2
done
[ -s "$work/port" ] || { echo "schemathesis: no admin server port after 120 s" >&2; cat "$work/server.log" >&2; exit 1; }
port="$(cat "$work/port")"
echo "schemathesis: admin API on 127.0.0.1:$port, fuzzing for ${budget}s"

status=0
"$venv/bin/st" run Sources/Admin/openapi.yaml \
    --url "http://127.0.0.1:$port" \
    --header "Authorization: Bearer operator-token" \
    --checks "${SCHEMATHESIS_CHECKS:-not_a_server_error,ignored_auth,negative_data_rejection,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance}" \
    --max-time "$budget" \
    --workers 1 \
    --request-timeout 30 \
    --generation-database "$venv/examples" \
    --report-dir "$work/report" || status=$?

touch "$work/port.stop"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=""
if [ "$server_status" -ne 0 ]; then
    echo "schemathesis: the admin server failed or crashed (exit $server_status):" >&2
    tail -50 "$work/server.log" >&2
    exit 1
fi
exit "$status"
