"""Every transport against its real receiver, fed by a real trace
(`tracectl run --embedded --sink URL`): every record arrives, in seq order
with no gap, and the message says what tracectl printed."""

from __future__ import annotations

import json
import os
import re

import pytest

from sink_helpers import need
from receivers import JOURNALD, NATS, RSYSLOGD, Journald, NatsServer, Rsyslog
from sink_helpers import consecutive, needs_root, trace_lines, tracectl

N = 20


@pytest.fixture(scope="module")
def rsyslog(tmp_path_factory):
    need(RSYSLOGD, "rsyslog rsyslog-relp rsyslog-gnutls")
    r = Rsyslog(str(tmp_path_factory.mktemp("rsyslog")))
    yield r
    r.stop()


@pytest.fixture(scope="module")
def journald(tmp_path_factory):
    needs_root()
    need(JOURNALD, "systemd")
    j = Journald(str(tmp_path_factory.mktemp("journald")))
    yield j
    j.stop()


@pytest.fixture(scope="module")
def natsd(tmp_path_factory):
    need(NATS, "nats-server")
    n = NatsServer(str(tmp_path_factory.mktemp("nats")))
    yield n
    n.stop()


def _run(burst, tmp_path, url, n=N):
    out = tmp_path / "out.txt"
    r = tracectl("--embedded", "run", "-e", "trace=getppid,openat", "-o", out, "--sink", url, "--", burst, n, 1500)  # alive while the sink process (which reads comm/exe from /proc) starts
    assert r.returncode == 0, r.stderr
    return trace_lines(out)


@pytest.mark.parametrize("name", Rsyslog.INPUTS)
def test_syslog(rsyslog, burst, tmp_path, name):
    lines = _run(burst, tmp_path, rsyslog.url(name, failed_severity="err"))
    msgs = rsyslog.wait_messages(name, lambda ms: any(m["msgid"] == "exit" for m in ms))
    assert msgs, f"nothing arrived at rsyslog's {name} input"
    seqs = [int(m["params"]["seq"]) for m in msgs]
    assert consecutive(seqs) and seqs[0] == 0, seqs
    assert len({m["params"]["session"] for m in msgs}) == 1
    calls = [m for m in msgs if m["msgid"] in ("getppid", "openat")]
    # MSG is the line tracectl printed, exactly
    assert [m["msg"] for m in calls] == lines
    assert sum(m["msgid"] == "getppid" for m in calls) == N
    exit_msg = [m for m in msgs if m["msgid"] == "exit"]
    assert [m["msg"] for m in exit_msg] == ["+++ exited with 0 +++"]
    for m in calls:
        assert m["app"] == "tracerd"
        p = m["params"]
        assert m["procid"] == p["tid"] and int(m["procid"]) > 1
        assert p["comm"] == "burst" and p["exe"].endswith("/burst") and p["uid"] == str(os.getuid())
    failed = [m for m in calls if m["msgid"] == "openat" and "/nonexistent/" in m["msg"]]
    assert len(failed) == 1 and failed[0]["pri"] == str(1 * 8 + 3) and failed[0]["params"]["errno"] == "ENOENT"
    assert {m["pri"] for m in calls if m is not failed[0]} == {str(1 * 8 + 6)}


@pytest.mark.parametrize("how", ["datagram", "memfd"])
def test_journal(journald, burst, tmp_path, how):
    url = f"journal:{journald.socket}" + ("?memfd_bytes=64" if how == "memfd" else "")
    before = {e["TRACERD_SESSION"] for e in journald.entries(SYSLOG_IDENTIFIER="tracerd")}
    lines = _run(burst, tmp_path, url)
    import time

    deadline = time.monotonic() + 20
    while True:
        ents = [e for e in journald.entries(SYSLOG_IDENTIFIER="tracerd") if e["TRACERD_SESSION"] not in before]
        if any(e.get("TRACERD_TYPE") == "exit" for e in ents) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    seqs = [int(e["TRACERD_SEQ"]) for e in ents]
    assert consecutive(seqs) and seqs[0] == 0, seqs
    calls = [e for e in ents if e["TRACERD_MSGID"] in ("getppid", "openat")]
    assert [e["MESSAGE"] for e in calls] == lines
    for e in calls:
        assert e["OBJECT_PID"] == e["TRACERD_PID"] and e["TRACERD_COMM"] == "burst"
    failed = [e for e in calls if "/nonexistent/" in e["MESSAGE"]]
    assert len(failed) == 1 and failed[0]["TRACERD_ERRNO"] == "ENOENT"


def test_nats_jetstream(natsd, burst, tmp_path):
    lines = _run(burst, tmp_path, natsd.url("trace.t1", stream="T1"))
    got = natsd.messages("T1", "trace.t1")
    objs = [o for _h, o in got]
    seqs = [o["seq"] for o in objs]
    assert seqs == list(range(len(seqs))) and len(seqs) > N
    # the jsonl `text` is the line without tracectl's column alignment
    assert [o["text"] for o in objs if o.get("syscall") in ("getppid", "openat")] == [re.sub(r" +=", " =", line, count=1) for line in lines]
    # the JSON object is --format=jsonl's plus host, session, rule
    assert all({"host", "session", "rule", "seq", "type"} <= o.keys() for o in objs)
    for h, o in got:
        assert h["Nats-Msg-Id"] == f"{o['host']}/{o['session']}/{o['seq']}"
    assert objs[-1]["type"] == "exit" and objs[-1]["status"] == 0


def test_file_rotation(burst, tmp_path):
    path = tmp_path / "trace.jsonl"
    _run(burst, tmp_path, f"file:{path}?max_bytes=4000&keep=2", n=200)
    files = [tmp_path / "trace.jsonl.2", tmp_path / "trace.jsonl.1", path]
    assert all(f.exists() for f in files) and not (tmp_path / "trace.jsonl.3").exists()
    seqs = []
    for f in files:
        assert f.stat().st_size <= 4000
        for line in f.read_text().splitlines():
            o = json.loads(line)
            assert o["host"] and o["session"] and o["rule"] == ""
            seqs.append(o["seq"])
    # the kept files hold the newest records, contiguous up to the exit
    assert consecutive(seqs) and seqs == sorted(seqs)
    assert json.loads(path.read_text().splitlines()[-1])["type"] == "exit"
