"""tracerd --metrics-listen: /metrics that promtool accepts, counters that move
by exactly what a traced run produced, and a real Prometheus scraping it.

One daemon with metrics and one Prometheus server serve the whole module."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import msgpack
import pytest
from daemon_helpers import Daemon, _world_dir, tracectl

from tracerd._wire import IDX, Rec, SysFlag


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(scope="module")
def mdaemon():
    d = _world_dir()
    port = free_port()
    daemon = Daemon(os.path.join(d, "run", "tracerd.sock"), extra=["--metrics-listen", f"127.0.0.1:{port}"])
    daemon.metrics_url = f"http://127.0.0.1:{port}/metrics"
    daemon.metrics_port = port
    yield daemon
    daemon.stop()
    shutil.rmtree(d, ignore_errors=True)


def scrape(daemon) -> dict:
    """{(name, frozenset(labels.items())): value} of one scrape."""
    from prometheus_client.parser import text_string_to_metric_families

    status, body = http_get(daemon.metrics_url)
    assert status == 200
    out = {}
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            out[s.name, frozenset(s.labels.items())] = s.value
    return out


def value(m: dict, name: str, **labels) -> float:
    return m.get((name, frozenset(labels.items())), 0.0)


def test_promtool_accepts_the_metrics(mdaemon, tmp_path):
    if shutil.which("promtool") is None:
        pytest.skip("promtool missing (apt-get install prometheus)")
    r = tracectl("run", "-e", "trace=openat", "--", "true", socket_path=mdaemon.path)
    assert r.returncode == 0, r.stderr
    status, body = http_get(mdaemon.metrics_url)
    assert status == 200
    p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, timeout=30)
    assert p.returncode == 0, (p.stdout + p.stderr).decode()
    text = body.decode()
    for name in ("tracerd_sessions", "tracerd_records_total", "tracerd_records_lost_total", "tracerd_stops_total",
                 "tracerd_stop_cpu_seconds_bucket", "tracerd_stop_latency_seconds_bucket", "tracerd_sink_delivered_total",
                 "tracerd_sink_queued", "tracerd_subscribers", "tracerd_worker_resident_memory_bytes",
                 "tracerd_daemon_cpu_seconds_total"):
        assert f"\n{name}" in text, name
    # aggregate figures only: no session id, pid, command or user
    assert "session=" not in text and "pid=" not in text and "uid=" not in text and "/usr/bin/true" not in text


def test_counters_move_by_what_a_run_produced(mdaemon, tmp_path):
    before = scrape(mdaemon)
    out = tmp_path / "rec.mp"
    r = tracectl("run", "-f", "--format=msgpack", "-o", str(out), "--", "sh", "-c", "ls / >/dev/null; cat /etc/hostname >/dev/null", socket_path=mdaemon.path)
    assert r.returncode == 0, r.stderr
    after = scrape(mdaemon)
    records = [o for o in msgpack.Unpacker(open(out, "rb"), raw=False, strict_map_key=False) if isinstance(o, list)]
    assert len(records) > 20
    assert value(after, "tracerd_records_total", kind="run", rule="") - value(before, "tracerd_records_total", kind="run", rule="") == len(records)
    assert value(after, "tracerd_sessions_ended_total", kind="run") - value(before, "tracerd_sessions_ended_total", kind="run") == 1
    # each syscall record the filter selected is one seccomp stop
    seccomp = 0
    for rec in records:
        if rec[0] in (Rec.SYSCALL, Rec.SYSCALL_ENTRY):
            flags = rec[IDX[Rec(rec[0])]["flags"]] or 0
            seccomp += bool(flags & SysFlag.SECCOMP)
    assert value(after, "tracerd_stops_total", kind="seccomp") - value(before, "tracerd_stops_total", kind="seccomp") == seccomp
    assert value(after, "tracerd_records_lost_total", kind="run", rule="", reason="subscriber_queue_full") == value(before, "tracerd_records_lost_total", kind="run", rule="", reason="subscriber_queue_full")
    assert value(after, "tracerd_stop_cpu_seconds_count") == value(before, "tracerd_stop_cpu_seconds_count") + 1
    # the stop-latency histogram: one observation per stop the worker handled,
    # whatever its kind, in cumulative log2 buckets
    stops = sum(value(after, "tracerd_stops_total", kind=k) - value(before, "tracerd_stops_total", kind=k) for k in ("seccomp", "syscall", "other"))
    lat = lambda m, le: value(m, "tracerd_stop_latency_seconds_bucket", le=le)  # noqa: E731
    assert stops > seccomp
    assert value(after, "tracerd_stop_latency_seconds_count") - value(before, "tracerd_stop_latency_seconds_count") == stops
    assert lat(after, "+Inf") - lat(before, "+Inf") == stops
    assert value(after, "tracerd_stop_latency_seconds_sum") > value(before, "tracerd_stop_latency_seconds_sum")
    les = sorted({dict(k[1])["le"] for k in after if k[0] == "tracerd_stop_latency_seconds_bucket"} - {"+Inf"}, key=float)
    assert [float(x) for x in les] == [2.0 ** (8 + i) / 1e9 for i in range(19)]
    counts = [lat(after, le) for le in les]
    assert counts == sorted(counts) and counts[-1] <= lat(after, "+Inf")
    assert value(after, "tracerd_sessions", kind="run", state="tracing") == 0


def test_live_session_gauges_and_worker_rss(mdaemon, sleeper_bin):
    child = subprocess.Popen([sleeper_bin])
    try:
        w = subprocess.Popen(
            [*tracectl_cmd(mdaemon.path), "attach", "-e", "trace=openat", "-o", os.devnull, "-p", str(child.pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        m = {}
        for _ in range(200):  # until the session shows and its worker runs (bounded: ~10 s);
            # a session is listed while its worker is still being exec'd
            m = scrape(mdaemon)
            if value(m, "tracerd_sessions", kind="attach", state="tracing") == 1 and value(m, "tracerd_worker_resident_memory_bytes") > 1 << 20:
                break
            time.sleep(0.05)
        assert value(m, "tracerd_sessions", kind="attach", state="tracing") == 1
        assert value(m, "tracerd_subscribers", policy="block", role="owner") == 1
        assert value(m, "tracerd_workers") == 1
        assert value(m, "tracerd_worker_resident_memory_bytes") > 1 << 20
        w.terminate()
        w.wait(timeout=30)
    finally:
        child.kill()
        child.wait()


def tracectl_cmd(sock):
    import sys

    return [sys.executable, "-c", "import sys; from tracerd.client import main; sys.exit(main())", "--socket", sock]


def test_bad_requests_and_bad_address(mdaemon, tmp_path):
    assert http_get(mdaemon.metrics_url.replace("/metrics", "/"))[0] == 404
    with socket.create_connection(("127.0.0.1", mdaemon.metrics_port), timeout=10) as s:
        s.sendall(b"garbage\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400")
    assert scrape(mdaemon)  # still serving
    import sys

    r = subprocess.run([sys.executable, "-m", "tracerd.daemon", "--socket", str(tmp_path / "s"), "--metrics-listen", "localhost:9"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "numeric IP address" in r.stderr
    cfg = tmp_path / "c.toml"
    cfg.write_text("[metrics]\nlisten = 12\n")
    r = subprocess.run([sys.executable, "-m", "tracerd.daemon", "--socket", str(tmp_path / "s"), "--config", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "metrics.listen must be a string" in r.stderr


@pytest.fixture(scope="module")
def prometheus(mdaemon):
    """A real Prometheus (Debian's) scraping the module's daemon every second."""
    exe = shutil.which("prometheus")
    if exe is None:
        pytest.skip("prometheus missing (apt-get install prometheus)")
    d = tempfile.mkdtemp(prefix="tracerd-prom-")
    port = free_port()
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: tracerd\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{mdaemon.metrics_port}']\n"
        )
    proc = subprocess.Popen(
        [exe, f"--config.file={cfg}", f"--storage.tsdb.path={d}/data", f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=d,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def test_a_real_prometheus_scrapes_and_answers(mdaemon, prometheus):
    r = tracectl("run", "-e", "trace=openat", "--", "true", socket_path=mdaemon.path)
    assert r.returncode == 0, r.stderr
    want = value(scrape(mdaemon), "tracerd_records_total", kind="run", rule="")
    assert want > 0
    q = urllib.parse.quote('tracerd_records_total{kind="run"}')
    got = None
    for _ in range(300):  # Prometheus starts, then scrapes every second (bounded: ~30 s)
        try:
            status, body = http_get(f"{prometheus}/api/v1/query?query={q}", timeout=5)
        except OSError:
            status, body = 0, b""
        if status == 200:
            res = json.loads(body)["data"]["result"]
            if res and float(res[0]["value"][1]) == want:
                got = res[0]
                break
        time.sleep(0.1)
    assert got is not None, "Prometheus never answered with the daemon's figure"
    assert got["metric"]["job"] == "tracerd" and got["metric"]["kind"] == "run"


def test_daemon_and_worker_agree_on_the_latency_buckets():
    from tracerd.daemon import _metrics
    from tracerd.native._worker import stop_latency_edges_ns

    assert [e / 1e9 for e in stop_latency_edges_ns()] == list(_metrics.LAT_EDGES)


def file_lines(path) -> int:
    try:
        with open(path) as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def wait_value(daemon, name, want, limit=20.0, **labels):
    """Scrape until `name{labels}` == want (a sink reports about once a
    second, and once when it ends); bounded."""
    deadline = time.monotonic() + limit
    while True:
        m = scrape(daemon)
        if value(m, name, **labels) == want or time.monotonic() > deadline:
            return m
        time.sleep(0.1)


def test_user_sinks_count_under_one_label(mdaemon, tmp_path):
    """A user's --sink: delivered counted under sink="user" (never the URL);
    a collector that is down: retries, and what was left counted as failed."""
    before = scrape(mdaemon)
    out = tmp_path / "user.jsonl"
    r = tracectl("run", "-qq", "-o", os.devnull, "-e", "trace=openat", "--sink", f"file:{out}", "--", "cat", "/etc/hostname", socket_path=mdaemon.path)
    assert r.returncode == 0, r.stderr
    for _ in range(200):  # the sink process writes its lines, then ends (bounded: ~10 s)
        n = file_lines(out)
        after = scrape(mdaemon)
        if n and value(after, "tracerd_sink_delivered_total", sink="user") - value(before, "tracerd_sink_delivered_total", sink="user") == n:
            break
        time.sleep(0.05)
    assert n > 0
    assert value(after, "tracerd_sink_delivered_total", sink="user") - value(before, "tracerd_sink_delivered_total", sink="user") == n
    assert value(after, "tracerd_sink_queued", sink="user") == 0
    text = http_get(mdaemon.metrics_url)[1].decode()
    assert str(out) not in text and "file:" not in text

    dead = free_port()  # nothing listens there
    url = f"syslog+tcp://127.0.0.1:{dead}?backoff_ms=5&backoff_max_ms=20&drain_ms=300"
    r = tracectl("run", "-qq", "-o", os.devnull, "-e", "trace=openat", "--sink", url, "--", "cat", "/etc/hostname", socket_path=mdaemon.path)
    assert r.returncode == 0, r.stderr
    base = value(before, "tracerd_sink_failed_total", sink="user")
    for _ in range(200):  # until the process gave up and reported (bounded: ~10 s)
        after = scrape(mdaemon)
        if value(after, "tracerd_sink_failed_total", sink="user") > base:
            break
        time.sleep(0.05)
    # as many messages given up on as the file sink delivered for the same run
    assert value(after, "tracerd_sink_failed_total", sink="user") - base == n
    assert value(after, "tracerd_sink_retried_total", sink="user") - value(before, "tracerd_sink_retried_total", sink="user") >= 2
    assert value(after, "tracerd_sink_delivered_total", sink="user") - value(before, "tracerd_sink_delivered_total", sink="user") == n


RULE_PROG = r"""
#include <fcntl.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	for (int i = 0; i < 5; i++) {
		int fd = open(argv[0], O_RDONLY);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}
"""


@pytest.fixture(scope="module")
def rdaemon():
    """A daemon with metrics, a standing rule and a [[sink]] the rule names."""
    if os.geteuid() != 0:
        pytest.skip("needs root (standing rules: fanotify exec permission events)")
    d = _world_dir()
    prog = os.path.join(d, "ruled")
    subprocess.run(["gcc", "-O2", "-o", prog, "-x", "c", "-"], input=RULE_PROG.encode(), check=True)
    port = free_port()
    cfg = os.path.join(d, "tracerd.toml")
    with open(cfg, "w") as f:
        f.write(
            f'[spool]\ndir = "{d}/state"\n[catcher]\nhold_ms = 2000\nidle_workers = 1\n'
            f'[[sink]]\nname = "central"\nurl = "file:{d}/central.jsonl"\n'
            f'[[rule]]\nname = "r1"\nexe = "{prog}"\ntrace = "-f -e trace=openat"\nsinks = ["central"]\n'
        )
    daemon = Daemon(os.path.join(d, "run", "tracerd.sock"), extra=["--config", cfg, "--metrics-listen", f"127.0.0.1:{port}"])
    daemon.metrics_url = f"http://127.0.0.1:{port}/metrics"
    daemon.prog, daemon.central = prog, os.path.join(d, "central.jsonl")
    yield daemon
    daemon.stop()
    shutil.rmtree(d, ignore_errors=True)


def test_rule_sessions_and_named_sinks(rdaemon):
    """A rule's session: its records under rule="r1" (ad-hoc ones keep
    rule=""), and the rule's [[sink]] counted under its name."""
    before = scrape(rdaemon)
    for _ in range(100):  # the rule is in force once the catcher has marked the program (bounded: ~10 s)
        subprocess.run([rdaemon.prog], check=True, timeout=30)
        m = scrape(rdaemon)
        if sum(v for (name, labels), v in m.items() if name == "tracerd_sessions_ended_total") > sum(v for (name, labels), v in before.items() if name == "tracerd_sessions_ended_total"):
            break
        time.sleep(0.1)
    ruled = lambda m: sum(v for (name, labels), v in m.items() if name == "tracerd_records_total" and dict(labels)["rule"] == "r1")  # noqa: E731
    for _ in range(200):  # the [[sink]] writes the session's lines and reports (bounded: ~20 s)
        n = file_lines(rdaemon.central)
        m = scrape(rdaemon)
        if n and value(m, "tracerd_sink_delivered_total", sink="central") == n and n >= ruled(m):
            break
        time.sleep(0.1)
    assert ruled(m) > 0
    # every record of the rule's sessions went to its sink, one line each
    assert value(m, "tracerd_sink_delivered_total", sink="central") == n == ruled(m)
    assert value(m, "tracerd_sink_queued", sink="central") == 0
    assert value(m, "tracerd_sink_lost_total", sink="central") == 0
    assert value(m, "tracerd_sink_delivered_total", sink="user") == 0
    # a rule's session is an attach with an injected filter (threads held
    # while it goes in): still one latency observation per stop
    stops = sum(value(m, "tracerd_stops_total", kind=k) - value(before, "tracerd_stops_total", kind=k) for k in ("seccomp", "syscall", "other"))
    assert stops > 0 and value(m, "tracerd_stop_latency_seconds_count") - value(before, "tracerd_stop_latency_seconds_count") == stops
    for (name, labels), v in m.items():
        if name == "tracerd_records_lost_total":
            assert dict(labels)["rule"] in ("", "r1")
    r = tracectl("run", "-qq", "-o", os.devnull, "-e", "trace=openat", "--", "true", socket_path=rdaemon.path)
    assert r.returncode == 0, r.stderr
    after = scrape(rdaemon)
    assert value(after, "tracerd_records_total", kind="run", rule="") > value(m, "tracerd_records_total", kind="run", rule="")
    assert ruled(after) == ruled(m)
    if shutil.which("promtool"):
        p = subprocess.run(["promtool", "check", "metrics"], input=http_get(rdaemon.metrics_url)[1], capture_output=True, timeout=30)
        assert p.returncode == 0, (p.stdout + p.stderr).decode()
