#!/usr/bin/env python3
"""Writes the seed corpora in Fuzz/Corpus/ (Docs/Fuzzing.md). Run from the repository root:

    .build/debug/plantrouter simulate --record /tmp/a.jsonl --count 300 --poison-every 25
    .build/debug/plantrouter simulate --record /tmp/b.jsonl --count 200 --telemetry-share 0.2 --poison-every 15 --seed 7
    Fuzz/make-corpus.py /tmp/a.jsonl /tmp/b.jsonl

Envelope seeds use the framing of Fuzz/Harness/RecordFraming.swift. Seeds are few and small on
purpose: libFuzzer grows its own corpus from them (in a temporary copy, see Fuzz/run.sh).
"""
import base64, hashlib, json, os, sys

corpus = "Fuzz/Corpus"

def write(target, name, data):
    with open(os.path.join(corpus, target, name), "wb") as f:
        f.write(data)

def raw_value(e):
    if "valueText" in e: return e["valueText"].encode()
    if "valueBase64" in e: return base64.b64decode(e["valueBase64"])
    return json.dumps(e["value"], separators=(",", ":")).encode()

def frame(e, drop=(), extra=(), topic=None, explain=False):
    out = (b"?" if explain else b"") + (topic or e["topic"]).encode()
    if "key" in e: out += b"\n@key:" + e["key"].encode()
    for line in extra: out += b"\n" + line
    for name, value in e.get("headers", {}).items():
        if name in drop: continue
        out += b"\n" + name.encode() + (b"" if value is None else b":" + value.encode())
    return out + b"\n\n" + raw_value(e)

events = [json.loads(line) for path in sys.argv[1:] for line in open(path) if line.strip()]
for target in os.listdir(corpus):
    for name in os.listdir(os.path.join(corpus, target)):
        os.remove(os.path.join(corpus, target, name))

# fuzz-envelope: one record per (topic, type, poison or not), then a few built to reach windows,
# explain, structured mode and the topic selector.
def shape(e):
    """What makes two simulator events decide differently: topic, type, source, metric, valid JSON."""
    try: body = json.loads(raw_value(e))
    except ValueError: body = None
    metric = body.get("metric") if isinstance(body, dict) else None
    value_ok = isinstance(body, dict) and not isinstance(body.get("value", 0), str)
    h = e.get("headers", {})
    return (e["topic"], h.get("ce_type"), h.get("ce_source"), metric, body is not None, value_ok)

seen = set()
for e in events:
    kind = shape(e)
    if kind in seen or len(raw_value(e)) > 2000: continue
    seen.add(kind)
    name = "-".join(str(part) for part in kind).replace("/", "_")
    write("fuzz-envelope", hashlib.sha1(name.encode()).hexdigest()[:8] + "-" + e["topic"], frame(e))
readings = [e for e in events if e["headers"].get("ce_type") == "plant.telemetry.reading"]
throughput = next(e for e in readings if b'"throughput"' in raw_value(e))
def with_value(e, number):
    body = json.loads(raw_value(e)); body["value"] = number
    return dict(e, valueText=json.dumps(body, separators=(",", ":")))
slow = with_value(throughput, 1)
# Five slow readings one second apart (no ce_time: the record timestamp advances): the slowdown rule fires.
write("fuzz-envelope", "window-slowdown-repeat", frame(slow, drop=("ce_time",), extra=(b"@repeat:5",)))
vibration = next((e for e in readings if b'"vibration"' in raw_value(e)), None)
if vibration:
    high = with_value(vibration, 9.5)
    write("fuzz-envelope", "window-vibration-repeat", frame(high, drop=("ce_time",), extra=(b"@repeat:4",)))
write("fuzz-envelope", "explain-reading", frame(throughput, explain=True))
write("fuzz-envelope", "topic-selector", frame(throughput, topic="#3"))
write("fuzz-envelope", "several-records", b"\x1e".join(frame(e) for e in readings[:3] + [events[0]]))
h = throughput["headers"]
structured = {"specversion": "1.0", "id": h["ce_id"], "source": h["ce_source"], "type": h["ce_type"], "time": h["ce_time"],
              "subject": "s", "datacontenttype": "application/json", "data": json.loads(raw_value(throughput))}
write("fuzz-envelope", "structured-mode", b"plant.telemetry.readings\n@key:L1\ncontent-type:application/cloudevents+json\n\n"
      + json.dumps(structured, separators=(",", ":")).encode())

# fuzz-recorded: recorded-event files as `simulate --record` writes them, and the other forms.
lines = [json.dumps(e, separators=(",", ":"), sort_keys=True).encode() for e in events]
write("fuzz-recorded", "one-line", lines[0] + b"\n")
write("fuzz-recorded", "three-lines", b"\n".join(lines[12:15]) + b"\n")
poison = [json.dumps(e, separators=(",", ":"), sort_keys=True).encode() for e in events if "valueBase64" in e]
if poison: write("fuzz-recorded", "value-base64", poison[0] + b"\n")
e = dict(events[20]); value = json.loads(e.pop("valueText")); e["value"] = value
e["keyBase64"] = base64.b64encode(e.pop("key").encode()).decode()
e["headers"]["x-null"] = None
write("fuzz-recorded", "value-json-key-base64", b"# a comment\n\n" + json.dumps(e).encode() + b"\r\n  \n")

# fuzz-topics: each Topics file as it ships (first byte: which file, see TopicsHarness).
files = ["policy.yaml", "catalog.yaml"] + sorted("schemas/" + f for f in os.listdir("Topics/schemas") if f.endswith(".json"))
for index, name in enumerate(files):
    write("fuzz-topics", name.replace("/", "-"), bytes([index]) + open(os.path.join("Topics", name), "rb").read())
