"""Sinks against their real receivers (`python -m bench.sinks`, root).

- records/s each sink sustains end to end (`tracectl run --sink URL`, policy
  block: the tracer waits for the sink, so the run's rate is the sink's),
  against the tracer's own production rate for the same getppid loop without
  a sink;
- the daemon's CPU per million records forwarded with one syslog sink and
  with none (its own CPU, then the reaped children's: workers and sinks);
- spool growth per second while the collector is down, and the time to drain
  the spool once it is back.

Receivers are the tests' private instances (tests/sinks/receivers.py).
Medians of --rounds runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "sinks"))

from receivers import Journald, NatsServer, Rsyslog  # noqa: E402
from sink_helpers import build_burst  # noqa: E402

from .daemon_common import TmpDaemon  # noqa: E402

PY = sys.executable


def tracectl(*args, env=None, socket_path=None):
    cmd = [PY, "-c", "import sys; from tracerd.client import main; sys.exit(main())"]
    if socket_path:
        cmd += ["--socket", socket_path]
    else:
        cmd += ["--embedded"]
    e = {k: v for k, v in os.environ.items() if k != "TRACERD_SOCKET"}
    e.update(env or {})
    t = time.monotonic()
    r = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, env=e)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return time.monotonic() - t


def spool_bytes(d: str) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _d, fs in os.walk(d) for f in fs if f.endswith(".seg"))


def stat_cpu(pid: int) -> tuple[int, int]:
    with open(f"/proc/{pid}/stat") as f:
        x = f.read().rsplit(")", 1)[1].split()
    tick = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    return (int(x[11]) + int(x[12])) * tick, (int(x[13]) + int(x[14])) * tick


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-n", type=int, default=20000, help="getppid calls per run")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tracerd-bench-sinks-")
    os.chmod(work, 0o755)
    burst = build_burst(work)
    started = []
    try:
        rs = Rsyslog(os.path.join(work, "rsyslog"))
        started.append(rs)
        jd = Journald(os.path.join(work, "journald"))
        started.append(jd)
        nt = NatsServer(os.path.join(work, "nats"))
        started.append(nt)
        n = a.n
        trace = ["run", "-qq", "-o", "/dev/null", "-e", "trace=getppid"]
        sinks = {
            "file:": f"file:{work}/bench.jsonl",
            "syslog+tcp": rs.url("tcp"),
            "syslog+tls": rs.url("tls"),
            "syslog+udp": rs.url("udp"),
            "syslog+unix": rs.url("unix"),
            "syslog+relp": rs.url("relp"),
            "journal:": f"journal:{jd.socket}",
            "nats (JetStream)": nt.url("bench", stream="BENCH"),
        }
        times: dict[str, list[float]] = {"none": []}
        for k in sinks:
            times[k] = []
        for _ in range(a.rounds):  # interleaved rounds: a slow moment hits every row alike
            times["none"].append(tracectl(*trace, "--", burst, n))
            for k, url in sinks.items():
                times[k].append(tracectl(*trace, "--sink", url, "--", burst, n))
        base = n / statistics.median(times["none"])
        print(f"\n## sinks: records/s end to end ({n} getppid records per run, median of {a.rounds}, policy block)\n")
        print("| sink | records/s | vs the tracer alone |")
        print("| --- | ---: | ---: |")
        print(f"| (none: the tracer's production rate) | {base:,.0f} | 1.00 |")
        for k in sinks:
            r = n / statistics.median(times[k])
            print(f"| {k} | {r:,.0f} | {r / base:.2f} |")

        # daemon CPU per million records, one syslog sink vs none
        print(f"\n## daemon CPU per million records (through the daemon, {n} records per run, median of {a.rounds})\n")
        print("| run | daemon's own CPU s / 1M records | its reaped children (worker + sinks) s / 1M |")
        print("| --- | ---: | ---: |")
        d = TmpDaemon()
        try:
            rows = {"no sink": [], "one syslog+tcp sink": []}
            for _ in range(a.rounds):
                for label, extra in (("no sink", []), ("one syslog+tcp sink", ["--sink", rs.url("tcp")])):
                    s0, c0 = stat_cpu(d.proc.pid)
                    tracectl(*trace, *extra, "--", burst, n, socket_path=d.path)
                    time.sleep(0.5)  # the sink process drains and is reaped
                    s1, c1 = stat_cpu(d.proc.pid)
                    rows[label].append(((s1 - s0) / n * 1e6 / 1e9, (c1 - c0) / n * 1e6 / 1e9))
            for label, vals in rows.items():
                print(f"| {label} | {statistics.median(v[0] for v in vals):.2f} | {statistics.median(v[1] for v in vals):.2f} |")
        finally:
            d.close()

        # spool growth during an outage, then the drain
        print(f"\n## spool (syslog+relp, policy spool): outage and drain ({n} records, median of {a.rounds})\n")
        grow, drain, size = [], [], []
        for i in range(a.rounds):
            rs.stop()
            state = os.path.join(work, f"state{i}")
            url = rs.url("relp") + "?policy=spool&drain_ms=100&backoff_ms=5&backoff_max_ms=20"
            t = tracectl(*trace, "--sink", url, "--", burst, n, env={"XDG_STATE_HOME": state})
            b = spool_bytes(state)
            grow.append(b / t)
            size.append(b)
            rs.start()
            from tracerd.client.sinks import open_sink, parse_url, user_spool_dir

            spec = parse_url(url.replace("drain_ms=100", "drain_ms=600000"))
            spool = os.path.join(state, "tracerd", "spool", os.path.basename(user_spool_dir(spec)))
            t0 = time.monotonic()
            sink = open_sink(spec, spool_dir=spool)
            sink.close(600)
            drain.append(time.monotonic() - t0)
        print("| spool bytes per record | growth while the collector is down (MB/s) | drain time once back (s) | drained records/s |")
        print("| ---: | ---: | ---: | ---: |")
        print(f"| {statistics.median(size) / n:.0f} | {statistics.median(grow) / 1e6:.2f} | {statistics.median(drain):.2f} | {n / statistics.median(drain):,.0f} |")
    finally:
        for r in started:
            r.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
