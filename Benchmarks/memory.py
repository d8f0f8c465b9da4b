"""Where PlantRouter's memory goes while it drains a backlog on tansu: samples its RSS every
0.2 s (peak, and the process's own mappings at the peak), optionally under heaptrack.
Run through Benchmarks/run.sh's venv after a release build:

    Benchmarks/.venv/bin/python Benchmarks/memory.py [--events N] [--lanes '{"telemetry": {"maxInFlight": 1000}}']
        [--heaptrack] [--env NAME=VALUE ...] [--binary PATH]

`--lanes` overrides lane settings (JSON, merged over the benchmark's); `--heaptrack` records
out/heaptrack.plantrouter.*.zst (read it with `heaptrack_print --print-peaks`). Not a
throughput measurement: the observer and the sampler share the machine with the router.
"""
import argparse
import json
import os
import time

import yaml

import bench


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0]), int(fields["Threads"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--lanes", default="{}")
    ap.add_argument("--heaptrack", action="store_true")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--binary", default=bench.PLANTROUTER, help="the plantrouter to measure (default: the release build)")
    a = ap.parse_args()

    exp = bench.expected_counts(a.events, 42)
    want = sum(exp.values())
    broker = bench.start_broker()
    try:
        bench.simulate(a.events, 42, logname="preload.log")
        obs = bench.Observer(bench.output_topics())
        tag = f"memory-{int(time.time())}"
        path = bench.router_config(tag)
        with open(path) as f:
            cfg = yaml.safe_load(f)
        for lane, settings in json.loads(a.lanes).items():
            cfg["lanes"].setdefault(lane, {}).update(settings)
        with open(path, "w") as f:
            yaml.safe_dump(cfg, f)
        env = bench.env_rd()
        env.update(kv.split("=", 1) for kv in a.env)
        cmd = [a.binary, "run", "--config", path]
        if a.heaptrack:
            cmd = ["heaptrack", "-o", os.path.join(bench.OUT, "heaptrack.plantrouter"), *cmd]
        t0 = time.time()
        p = bench.spawn(cmd, "memory-plantrouter.log", env)
        pid = p.pid
        if a.heaptrack:  # heaptrack runs the router as its child
            time.sleep(1.0)
            kids = open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()
            pid = int(kids[0]) if kids else p.pid
        peak, samples, smaps = 0, [], ""
        deadline = t0 + 900
        while time.time() < deadline and obs.total() < want and p.poll() is None:
            obs.poll(0.2)
            try:
                rss, hwm, threads = rss_kb(pid)
            except (FileNotFoundError, ProcessLookupError, KeyError):
                continue
            samples.append((round(time.time() - t0, 1), rss // 1024, obs.total()))
            if rss > peak:
                peak = rss
                try:
                    smaps = open(f"/proc/{pid}/smaps_rollup").read()
                except OSError:
                    pass
        rss, hwm, threads = rss_kb(pid)
        cpu = bench.proc_stats(pid)[1]
        seconds = (obs.last - obs.first) / 1000 if obs.first and obs.last else None
        bench.log(f"drained {obs.total()} of {want} outputs in {seconds}s; VmHWM {hwm // 1024} MB, sampled peak {peak // 1024} MB, "
                  f"threads {threads}, cpu {cpu:.1f}s = {cpu / a.events * 1e6:.1f} us/event")
        step = max(1, len(samples) // 25)
        print("t(s) rss(MB) outputs:", " ".join(f"{t}:{m}:{o}" for t, m, o in samples[::step]))
        print(smaps)
        bench.stop(p)
    finally:
        bench.stop(broker)


if __name__ == "__main__":
    main()
