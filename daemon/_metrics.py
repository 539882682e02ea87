"""Prometheus metrics: `tracerd --metrics-listen HOST:PORT` serves /metrics.

Nothing is updated on the forwarding path: a custom prometheus_client
Collector reads the daemon's own counters (sessions, subscribers, records
forwarded, records dropped) when Prometheus scrapes, plus the totals that
`Tally` keeps of sessions that have ended (what their workers reported on
their stats fd at the end: stops, the tracer's own drops, its CPU time).
The text itself is prometheus_client's `generate_latest`; the HTTP around it
is a few lines of Trio below (prometheus_client's own server runs in a
thread, which would share the GIL with forwarding).

Sinks report their own counters (the sink process writes them back up its
pipe, daemon/_sinkfeed.py) and the worker keeps a log2 histogram of how long
each stop held its tracee; both are read here too.

Labels are bounded: kind (run/attach), reason, policy, role, state, rule
(a configured rule's name, "" for other sessions), sink (a [[sink]] name,
"user" for every user's --sink, "resumed" for a spool an earlier daemon
left). No session id, pid, command, URL or user ever becomes a label or a
value.
"""

from __future__ import annotations

import logging
import os
import socket

import trio

log = logging.getLogger("tracerd")

DEFAULT_HOST = "127.0.0.1"
REQUEST_MAX = 8192  # bytes of request head read at most
REQUEST_SECONDS = 5.0  # a slow client is dropped after this
CONNECTIONS_MAX = 16  # concurrent scrapes served; more are closed at once

KINDS = {"launch": "run", "attach": "attach"}
# loss reasons (label values of tracerd_records_lost_total)
LOST_SUBSCRIBER = "subscriber_queue_full"  # a drop-mode watcher's queue was full
LOST_TRACER = "tracer_buffer_full"  # the worker dropped (a drop-mode session)
# stop-latency histogram: the worker's log2 buckets (native/tracer.h
# TR_LAT_SHIFT, TR_LAT_BUCKETS: edges 2^8 ns, 2^9 ns, ...; the last is +Inf)
LAT_SHIFT = 8
LAT_BUCKETS = 20
LAT_EDGES = tuple(2.0 ** (LAT_SHIFT + i) / 1e9 for i in range(LAT_BUCKETS - 1))
# stop-cost histogram buckets: tracer CPU seconds per stop (1 us .. 1 ms)
STOP_COST_BUCKETS = (1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3)


def parse_listen(value: str) -> tuple[str, int]:
    """HOST:PORT, [V6]:PORT or PORT (then on 127.0.0.1) -> (host, port);
    ValueError with a one-line message."""
    value = value.strip()
    host, port = DEFAULT_HOST, value
    if value.startswith("["):
        host, sep, port = value[1:].partition("]:")
        if not sep:
            raise ValueError(f"invalid metrics address '{value}' (HOST:PORT, [V6ADDR]:PORT or PORT)")
    elif ":" in value:
        host, _, port = value.rpartition(":")
    if not port.isdigit() or int(port) > 65535 or not host:
        raise ValueError(f"invalid metrics address '{value}' (HOST:PORT, [V6ADDR]:PORT or PORT)")
    return host, int(port)


def bind(value: str) -> socket.socket:
    """A listening TCP socket for HOST:PORT (bound at start-up, so a bad
    address or a port in use fails the daemon's start in one line)."""
    from tracerd import UsageError

    try:
        host, port = parse_listen(value)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except socket.gaierror:
        raise UsageError(f"invalid metrics address '{value}': the host must be a numeric IP address") from None
    family, _, _, _, addr = infos[0]
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(addr)
        s.listen(16)
    except OSError as exc:
        s.close()
        raise UsageError(f"cannot listen for metrics on {value}: {exc.strerror}") from None
    s.set_inheritable(False)
    return s


class Tally:
    """Totals of ended sessions (the live ones are read at scrape time)."""

    def __init__(self):
        self.records: dict[tuple[str, str], int] = {}  # (kind, rule) -> records forwarded
        self.lost: dict[tuple[str, str, str], int] = {}  # (kind, rule, reason) -> records
        self.stops: dict[str, int] = {}  # stop kind (seccomp/syscall) -> stops
        self.ended: dict[str, int] = {}  # kind -> sessions ended
        self.worker_cpu_ns = 0
        # histogram of tracer CPU per stop, one observation per ended session
        self.cost_counts = [0] * (len(STOP_COST_BUCKETS) + 1)
        self.cost_sum = 0.0
        # stop latency (ns), summed over ended sessions' workers
        self.lat_counts = [0] * LAT_BUCKETS
        self.lat_sum_ns = 0

    def session_ended(self, session, dropped: int) -> None:
        k = KINDS.get(session.mode, "other")
        rule = rule_of(session)
        self.ended[k] = self.ended.get(k, 0) + 1
        self.records[k, rule] = self.records.get((k, rule), 0) + session.records
        if dropped:
            self.lost[k, rule, LOST_SUBSCRIBER] = self.lost.get((k, rule, LOST_SUBSCRIBER), 0) + dropped
        st = getattr(session, "worker_stats", None) or {}
        lost = _uint(st.get("lost"))
        if lost:
            self.lost[k, rule, LOST_TRACER] = self.lost.get((k, rule, LOST_TRACER), 0) + lost
        hist = st.get("stop_ns_hist")
        if isinstance(hist, list) and len(hist) == LAT_BUCKETS:
            for i, n in enumerate(hist):
                self.lat_counts[i] += _uint(n)
            self.lat_sum_ns += _uint(st.get("stop_ns_sum"))
        seccomp, plain = _uint(st.get("seccomp_stops")), _uint(st.get("syscall_stops"))
        self.stops["seccomp"] = self.stops.get("seccomp", 0) + seccomp
        self.stops["syscall"] = self.stops.get("syscall", 0) + plain
        other = _uint(st.get("stops")) - seccomp - plain  # events, signals, exits
        if other > 0:
            self.stops["other"] = self.stops.get("other", 0) + other
        cpu = _uint(st.get("cpu_ns"))
        self.worker_cpu_ns += cpu
        stops = _uint(st.get("stops"))
        if stops and cpu:
            per = cpu / stops / 1e9
            i = next((j for j, b in enumerate(STOP_COST_BUCKETS) if per <= b), len(STOP_COST_BUCKETS))
            self.cost_counts[i] += 1
            self.cost_sum += per


def rule_of(session) -> str:
    """The standing rule that started `session` ("" for any other)."""
    r = getattr(session, "rule", "")
    return r if isinstance(r, str) else ""


def _uint(v) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 0


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class DaemonCollector:
    """prometheus_client Collector over a running `Daemon` (read at scrape)."""

    def __init__(self, daemon):
        self.daemon = daemon

    def describe(self):
        return []  # unchecked collector: families are produced at collect()

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        d = self.daemon
        tally: Tally = d.tally
        sessions = list(d.sessions.values())

        g = GaugeMetricFamily("tracerd_sessions", "Sessions the daemon holds now, by kind (run, attach) and state (tracing, pass-through).", labels=["kind", "state"])
        counts: dict[tuple[str, str], int] = {(k, s): 0 for k in KINDS.values() for s in ("tracing", "pass-through")}
        for s in sessions:
            key = (KINDS.get(s.mode, "other"), "pass-through" if s.passthru else "tracing")
            counts[key] = counts.get(key, 0) + 1
        for (k, st), n in sorted(counts.items()):
            g.add_metric([k, st], n)
        yield g

        c = CounterMetricFamily("tracerd_sessions_ended", "Sessions ended since the daemon started, by kind.", labels=["kind"])
        for k in KINDS.values():
            c.add_metric([k], tally.ended.get(k, 0))
        yield c

        records = dict(tally.records)
        lost = dict(tally.lost)
        for s in sessions:
            k, rule = KINDS.get(s.mode, "other"), rule_of(s)
            records[k, rule] = records.get((k, rule), 0) + s.records
            dropped = sum(sub.dropped for sub in s.subscribers) + d.dropped_by_session.get(s.id, 0)
            if dropped:
                lost[k, rule, LOST_SUBSCRIBER] = lost.get((k, rule, LOST_SUBSCRIBER), 0) + dropped
        keys = {(k, "") for k in KINDS.values()} | {k for k in records} | {(k, r) for k, r, _ in lost}
        c = CounterMetricFamily("tracerd_records", "Records the tracers produced and the daemon forwarded, by session kind and standing rule (\"\": not started by a rule).", labels=["kind", "rule"])
        for k, rule in sorted(keys):
            c.add_metric([k, rule], records.get((k, rule), 0))
        yield c
        c = CounterMetricFamily(
            "tracerd_records_lost",
            "Records lost, by session kind, standing rule and reason: subscriber_queue_full (a drop-mode watcher or sink fell behind; counted live), tracer_buffer_full (a drop-mode tracer; counted when its session ends).",
            labels=["kind", "rule", "reason"],
        )
        for k, rule in sorted(keys):
            for r in (LOST_SUBSCRIBER, LOST_TRACER):
                c.add_metric([k, rule, r], lost.get((k, rule, r), 0))
        yield c

        c = CounterMetricFamily("tracerd_stops", "Tracee stops the tracers handled, by kind (seccomp: a call the filter selected; syscall: a PTRACE_SYSCALL stop, i.e. an exit stop, or an entry without a filter; other: a ptrace event, a signal, an exit); counted when a session ends.", labels=["kind"])
        for k in ("seccomp", "syscall", "other"):
            c.add_metric([k], tally.stops.get(k, 0))
        yield c
        buckets, acc = [], 0
        for b, n in zip((*(repr(x) for x in STOP_COST_BUCKETS), "+Inf"), tally.cost_counts):
            acc += n
            buckets.append((b, acc))
        yield HistogramMetricFamily(
            "tracerd_stop_cpu_seconds",
            "Tracer CPU time per stop (worker CPU / stops), one observation per ended session: the loop does not time each stop.",
            buckets=buckets,
            sum_value=tally.cost_sum,
        )
        buckets, acc = [], 0
        for b, n in zip((*(repr(x) for x in LAT_EDGES), "+Inf"), tally.lat_counts):
            acc += n
            buckets.append((b, acc))
        yield HistogramMetricFamily(
            "tracerd_stop_latency_seconds",
            "How long each stop held its tracee (from the tracer's wait returning it to the resume), one observation per stop; log2 buckets; counted when a session ends.",
            buckets=buckets,
            sum_value=tally.lat_sum_ns / 1e9,
        )

        sinks = getattr(d, "sinks", None)
        if sinks is not None:
            gauges, counters = sinks.metrics()
            for name, help_ in (("queued", "Messages a sink process holds for delivery now (in memory or spooled)."),
                                ("spooled_bytes", "Bytes of spool files a sink process holds now.")):
                g = GaugeMetricFamily(f"tracerd_sink_{name}", help_ + " By sink: a [[sink]] name, user (every user's --sink), resumed (spools an earlier daemon left).", labels=["sink"])
                for lab in sorted(gauges):
                    g.add_metric([lab], gauges[lab][name])
                yield g
            for name, help_ in (("delivered", "Messages the sink's collector took."),
                                ("retried", "Send attempts that failed and were tried again (a reconnect)."),
                                ("failed", "Messages a non-spool sink gave up on when it ended (not delivered)."),
                                ("lost", "Messages a sink dropped by its policy (queue or spool full).")):
                c = CounterMetricFamily(f"tracerd_sink_{name}", help_ + " By sink; a process's counts arrive about once a second.", labels=["sink"])
                for lab in sorted(counters):
                    c.add_metric([lab], counters[lab][name])
                yield c

        subs: dict[tuple[str, str], int] = {(p, r): 0 for p in ("block", "drop") for r in ("owner", "watcher")}
        for s in sessions:
            for sub in s.subscribers:
                key = (sub.policy, "owner" if sub.owner else "watcher")
                subs[key] = subs.get(key, 0) + 1
        g = GaugeMetricFamily("tracerd_subscribers", "Subscribers to session streams now, by backpressure policy and role.", labels=["policy", "role"])
        for (p, r), n in sorted(subs.items()):
            g.add_metric([p, r], n)
        yield g
        yield GaugeMetricFamily("tracerd_connections", "Client connections open now.", value=len(d.clients))

        workers = [s.worker_pid for s in sessions if s.worker_pid]
        yield GaugeMetricFamily("tracerd_workers", "Tracer worker processes alive now.", value=len(workers))
        yield GaugeMetricFamily("tracerd_worker_resident_memory_bytes", "Resident memory of all tracer workers together, now.", value=sum(_rss_bytes(p) for p in workers))
        yield CounterMetricFamily("tracerd_worker_cpu_seconds", "CPU time of tracer workers whose sessions have ended.", value=tally.worker_cpu_ns / 1e9)
        times = os.times()
        yield CounterMetricFamily("tracerd_daemon_cpu_seconds", "CPU time (user and system) of the daemon process itself.", value=times.user + times.system)
        yield GaugeMetricFamily("tracerd_daemon_resident_memory_bytes", "Resident memory of the daemon process.", value=_rss_bytes(os.getpid()))


def registry_for(daemon):
    from prometheus_client import CollectorRegistry

    reg = CollectorRegistry(auto_describe=False)
    reg.register(DaemonCollector(daemon))
    return reg


async def serve(daemon, sock: socket.socket, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    """Answer GET /metrics on `sock` until cancelled."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    registry = registry_for(daemon)
    sock.setblocking(False)
    listener = trio.socket.from_stdlib_socket(sock)
    limit = trio.Semaphore(CONNECTIONS_MAX)
    log.info("metrics on http://%s/metrics", _addr(sock))

    async def handle(conn) -> None:
        async with limit:
            with conn:
                with trio.move_on_after(REQUEST_SECONDS):
                    head = b""
                    while b"\r\n\r\n" not in head and b"\n\n" not in head:
                        chunk = await conn.recv(4096)
                        if not chunk:
                            return
                        head += chunk
                        if len(head) > REQUEST_MAX:
                            await _send(conn, 431, b"request header too large\n")
                            return
                    line = head.split(b"\n", 1)[0].decode("latin-1").strip().split()
                    if len(line) != 3 or not line[2].startswith("HTTP/"):
                        await _send(conn, 400, b"bad request\n")
                    elif line[0] not in ("GET", "HEAD"):
                        await _send(conn, 405, b"only GET\n", extra="Allow: GET, HEAD\r\n")
                    elif line[1].split("?", 1)[0] != "/metrics":
                        await _send(conn, 404, b"see /metrics\n")
                    else:
                        body = generate_latest(registry)
                        await _send(conn, 200, body, ctype=CONTENT_TYPE_LATEST, head_only=line[0] == "HEAD")

    async with trio.open_nursery() as nursery:
        task_status.started()
        while True:
            try:
                conn, _ = await listener.accept()
            except OSError as exc:
                log.warning("metrics accept: %s", exc.strerror)
                await trio.sleep(0.1)
                continue
            if limit.value == 0:
                conn.close()  # too many scrapes at once: the others keep being served
                continue
            nursery.start_soon(_guarded, handle, conn)


async def _guarded(handle, conn) -> None:
    try:
        await handle(conn)
    except OSError:
        pass  # the scraper went away: nothing to tell anyone


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 431: "Request Header Fields Too Large"}


async def _send(conn, status: int, body: bytes, *, ctype: str = "text/plain; charset=utf-8", extra: str = "", head_only: bool = False) -> None:
    head = f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n{extra}\r\n"
    data = head.encode("latin-1") + (b"" if head_only else body)
    view = memoryview(data)
    while view:
        n = await conn.send(view)
        view = view[n:]


def _addr(sock) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
