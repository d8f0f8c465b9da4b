"""Profiles one contender draining a backlog on tansu with `perf record`, and prints where its
CPU goes (shared objects, then the top symbols). Run through Benchmarks/run.sh's venv:

    Benchmarks/.venv/bin/python Benchmarks/profile.py [--events N] [--contender plantrouter]

Writes out/perf.data and out/profile.txt. Needs `perf` (Debian: linux-perf) and a release build.
"""
import argparse
import os
import signal
import subprocess
import time

import bench


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--contender", default="plantrouter")
    ap.add_argument("--top", type=int, default=45)
    a = ap.parse_args()

    exp = bench.expected_counts(a.events, 42)
    want = bench.expected_for(a.contender, a.events, exp)
    broker = bench.start_broker()
    try:
        bench.simulate(a.events, 42, logname="preload.log")
        obs = bench.Observer(bench.output_topics())
        cmd, env = bench.contender_cmd(a.contender, f"profile-{a.contender}-{int(time.time())}")
        data = os.path.join(bench.OUT, "perf.data")
        p = bench.spawn(["perf", "record", "-F", "999", "-g", "-o", data, "--", *cmd], f"profile-{a.contender}.log", env)
        deadline = time.time() + 600
        while time.time() < deadline and obs.total() < sum(want.values()) and p.poll() is None:
            obs.poll(0.5)
        bench.log(f"drained: {obs.total()} of {sum(want.values())} outputs")
        # SIGTERM to the whole session: the contender drains and exits, then perf writes its data.
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(60)
        bench.CHILDREN.remove(p)
    finally:
        bench.stop(broker)

    def report(*sort):
        return subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "--percent-limit", "0.4",
                               "-g", "none", "--sort", ",".join(sort)], capture_output=True, text=True).stdout
    text = "## by shared object\n" + report("dso") + "\n## by symbol\n" + "\n".join(report("dso", "sym").splitlines()[: a.top + 12])
    with open(os.path.join(bench.OUT, "profile.txt"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
