"""The delivery core end to end: stalls and restarts of real collectors,
drop and full-spool accounting, a spool left by one sink process delivered
by the next."""

from __future__ import annotations

import json
import os
import subprocess
import time

import msgpack
import pytest

from sink_helpers import need
from receivers import NATS, RSYSLOGD, NatsServer, Rsyslog
from sink_helpers import PY, tracectl

from tracerd import _wire
from tracerd.client.sinks import open_sink, parse_url
from tracerd.client.sinks._core import Spool

FAST = "backoff_ms=5&backoff_max_ms=50&timeout_ms=20000"


@pytest.fixture(scope="module")
def rsyslog(tmp_path_factory):
    need(RSYSLOGD, "rsyslog rsyslog-relp rsyslog-gnutls")
    r = Rsyslog(str(tmp_path_factory.mktemp("rsyslog")))
    yield r
    r.stop()


@pytest.fixture(scope="module")
def natsd(tmp_path_factory):
    need(NATS, "nats-server")
    n = NatsServer(str(tmp_path_factory.mktemp("nats")))
    yield n
    n.stop()


def _covered(seqs, losts) -> set[int]:
    got = set(seqs)
    for _n, first, last in losts:
        got |= set(range(first, last + 1))
    return got


def _start_trace(burst, tmp_path, url, n, us):
    env = {k: v for k, v in os.environ.items() if k != "TRACERD_SOCKET"}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")  # the embedded spool
    cmd = [PY, "-c", "import sys; from tracerd.client import main; sys.exit(main())", "--embedded", "run", "-qq", "-o", "/dev/null",
           "-e", "trace=getppid", "--sink", url, "--", burst, str(n), "0", str(us)]
    return subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)


def _outage(receiver, proc):
    """Mid-stream: the collector stalls for 1.5 s, then is restarted."""
    time.sleep(0.4)
    receiver.pause()
    time.sleep(1.5)
    receiver.resume()
    time.sleep(0.3)
    receiver.stop()
    time.sleep(0.3)
    receiver.start()
    assert proc.wait(120) == 0, proc.stderr.read()


def test_relp_spool_stall_and_restart(rsyslog, burst, tmp_path):
    rsyslog.clear("relp")
    proc = _start_trace(burst, tmp_path, rsyslog.url("relp") + f"?policy=spool&{FAST}", 1500, 1000)
    _outage(rsyslog, proc)
    msgs = rsyslog.wait_messages("relp", lambda ms: any(m["msgid"] == "exit" for m in ms))
    seqs = [int(m["params"]["seq"]) for m in msgs]
    assert len({m["params"]["session"] for m in msgs}) == 1
    assert not [m for m in msgs if m["msgid"] == "lost"]
    assert set(seqs) == set(range(max(seqs) + 1)), f"missing: {sorted(set(range(max(seqs) + 1)) - set(seqs))[:20]}"
    assert sum(m["msgid"] == "getppid" for m in msgs) >= 1500  # at-least-once: a resend may repeat a few


def test_jetstream_spool_stall_and_restart(natsd, burst, tmp_path):
    proc = _start_trace(burst, tmp_path, natsd.url("trace.outage", stream="OUTAGE") + f"&policy=spool&{FAST}&timeout_ms=1000", 1500, 1000)
    _outage(natsd, proc)
    deadline = time.monotonic() + 30
    while True:
        objs = [o for _h, o in natsd.messages("OUTAGE", "trace.outage")]
        if any(o["type"] == "exit" for o in objs) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    seqs = [o["seq"] for o in objs]
    assert set(seqs) == set(range(max(seqs) + 1))
    assert len(seqs) == len(set(seqs)), "Nats-Msg-Id deduplicates resends"
    assert sum(o.get("syscall") == "getppid" for o in objs) == 1500


def test_drop_announces_lost(rsyslog, burst, tmp_path):
    rsyslog.clear("relp")
    rsyslog.pause()  # the sink connects, then waits for answers that do not come
    try:
        proc = _start_trace(burst, tmp_path, rsyslog.url("relp") + f"?policy=drop&queue=50&{FAST}", 3000, 0)
        time.sleep(1.5)
    finally:
        rsyslog.resume()
    assert proc.wait(60) == 0
    msgs = rsyslog.wait_messages("relp", lambda ms: any(m["msgid"] == "lost" for m in ms))
    lost = [m for m in msgs if m["msgid"] == "lost"]
    assert lost, "a drop must be announced"
    ranges = [(int(m["params"]["count"]), int(m["params"]["first"]), int(m["params"]["last"])) for m in lost]
    assert all(n == last - first + 1 for n, first, last in ranges)
    assert all(m["msg"].startswith(f"--- {n} records lost") for m, (n, _f, _l) in zip(lost, ranges))
    seqs = [int(m["params"]["seq"]) for m in msgs if m["msgid"] != "lost"]
    top = max(seqs + [last for _n, _f, last in ranges])
    assert _covered(seqs, ranges) == set(range(top + 1))
    assert sum(n for n, _f, _l in ranges) == top + 1 - len(set(seqs))


def _events(n, session="s.1", start=0):
    return [{"session": session, "seq": start + i, "host": "h", "rule": "", "ts": i, "tid": 1, "pid": 1, "uid": 0, "comm": "",
             "exe": "", "msgid": "getppid", "line": "getppid() = 1" + "x" * 100, "err": False, "type": "syscall", "json": {}} for i in range(n)]


@pytest.mark.parametrize("full", ["oldest", "newest"])
def test_full_spool(tmp_path, full):
    sp = Spool(str(tmp_path / "spool"), max_bytes=20_000, segment_bytes=4096, full=full)
    for ev in _events(1000):
        sp.put(ev)
    sp.close()
    got = []
    while True:
        batch = sp.peek(100, timeout=0)
        if not batch:
            break
        got += batch
        sp.release(len(batch))
    assert sp.done()
    kept = [e["seq"] for e in got if "lost" not in e]
    lost = [tuple(e["lost"]) for e in got if "lost" in e]
    assert lost and kept
    assert _covered(kept, lost) == set(range(1000)) and sum(n for n, _f, _l in lost) + len(kept) == 1000
    assert kept == sorted(kept) and len(set(kept)) == len(kept)
    if full == "newest":
        assert kept[0] == 0  # the oldest stayed
    else:
        assert kept[-1] == 999  # the newest stayed
    assert sum(os.path.getsize(tmp_path / "spool" / f) for f in os.listdir(tmp_path / "spool") if f.endswith(".seg")) <= 20_000


def test_spool_outlives_the_sink_process(rsyslog, tmp_path):
    """A sink process ends with its collector down: its spool stays on disk;
    the next process on the same spool delivers it, in order."""
    url = rsyslog.url("relp") + f"?policy=spool&drain_ms=200&{FAST}"
    spool = str(tmp_path / "spool")
    rsyslog.stop()
    try:
        sink = open_sink(parse_url(url), spool_dir=spool, stderr=subprocess.DEVNULL)
        sink.open_session(3, "restart.3", {"uid": 0})
        recs = [msgpack.packb(_wire.record(_wire.Rec.SYSCALL, i, time.time_ns(), 77, 77, 0, 110, [0] * 6, 1, False, 5, [], None, 0)) for i in range(500)]
        sink.feed(_wire.pack_frame(3, 0, recs))
        assert sink.close(30) == 0
        assert [f for f in os.listdir(spool) if f.endswith(".seg")]
    finally:
        rsyslog.start()
    rsyslog.clear("relp")
    sink = open_sink(parse_url(url.replace("drain_ms=200", "drain_ms=20000")), spool_dir=spool)
    assert sink.close(60) == 0
    msgs = [m for m in rsyslog.wait_messages("relp", lambda ms: len(ms) >= 500) if m["params"]["session"] == "restart.3"]
    assert [int(m["params"]["seq"]) for m in msgs] == list(range(500))
    with open(os.path.join(spool, "cursor")) as f:
        assert f.read().split()  # the cursor moved past what was delivered


def test_spool_quota_per_uid(tmp_path):
    """One uid's spools share a quota: past it, messages are dropped and announced."""
    top = tmp_path / "uid-1000"
    quota = (str(top), 40_000)
    a = Spool(str(top / "a"), max_bytes=1 << 20, segment_bytes=4096, quota=quota)
    for ev in _events(200, "a.1"):
        a.put(ev)
    b = Spool(str(top / "b"), max_bytes=1 << 20, segment_bytes=4096, quota=quota)
    for ev in _events(1000, "b.1"):
        b.put(ev)
    b.close()
    used = sum(os.path.getsize(os.path.join(r, f)) for r, _d, fs in os.walk(top) for f in fs if f.endswith(".seg"))
    assert used <= 40_000 + 4096  # the quota, checked whenever a segment starts
    got = []
    while batch := b.peek(200, timeout=0):
        got += batch
        b.release(len(batch))
    kept = [e["seq"] for e in got if "lost" not in e]
    lost = [tuple(e["lost"]) for e in got if "lost" in e]
    assert lost and _covered(kept, lost) == set(range(1000))
