"""Record once, look many ways: msgpack recordings and `tracectl replay`,
--format=perfetto read back with the perfetto package's protos, and -c's
p50/p99 columns. A small C program with known calls is traced for real
(embedded) once per module."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import msgpack
import pytest

from tracerd._wire import Rec, field

PROG = r"""
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void on_usr1(int s) { (void)s; }
int main(void)
{
	int i, st;
	pid_t p;
	for (i = 0; i < 5; i++)
		open("/nonexistent-seeing", O_RDONLY);
	for (i = 0; i < 7; i++)
		getppid();
	write(1, "hi\n", 3);
	signal(SIGUSR1, on_usr1);
	kill(getpid(), SIGUSR1);
	p = fork();
	if (p == 0) {
		getppid();
		_exit(3);
	}
	waitpid(p, &st, 0);
	return 0;
}
"""


def tracectl(*args, stdout=subprocess.PIPE, **kw):
    env = {k: v for k, v in os.environ.items() if k != "TRACERD_SOCKET"}
    cmd = [sys.executable, "-c", "import sys; from tracerd.client import main; sys.exit(main())", *args]
    return subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120, env=env, **kw)


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc missing")
    d = tmp_path_factory.mktemp("seeing")
    (d / "prog.c").write_text(PROG)
    subprocess.run(["gcc", "-O0", "-o", str(d / "prog"), str(d / "prog.c")], check=True)
    return d / "prog"


@pytest.fixture(scope="module")
def recording(prog, tmp_path_factory):
    """One recording made with -f -c -y, stdout to a file (an inherited fd)."""
    d = tmp_path_factory.mktemp("rec")
    rec, out = d / "rec.mp", d / "out.txt"
    with open(out, "w") as o:
        r = tracectl("--embedded", "run", "-f", "-c", "-y", "--format=msgpack", "-o", str(rec), "--", str(prog), stdout=o)
    assert r.returncode == 0, r.stderr
    objs = list(msgpack.Unpacker(open(rec, "rb"), raw=False, strict_map_key=False))
    return rec, out, objs


def calls(objs, name):
    from tracerd.client.decode import Decoder

    dec = Decoder()
    return [o for o in objs if isinstance(o, list) and o[0] in (Rec.SYSCALL, Rec.SYSCALL_EXIT) and dec.name(field(o, "pers"), field(o, "nr")) == name]


def test_a_recording_describes_itself(recording):
    rec, _out, objs = recording
    h = objs[0]
    assert h["tracerd"] == "recording" and h["version"] == 1 and h["personality"] == "x86_64"
    assert h["kind"] == "run" and len(h["roots"]) == 1
    assert h["fetched"]["cpu_time"] is True and h["fetched"]["fd_names"] is True
    assert h["options"]["yflag"] == 1 and h["options"]["summary"] == 1 and "-f" in h["options"]["argv"]
    assert any(isinstance(o, dict) and o.get("tracerd") == "fds" for o in objs[1:])


def test_replay_prints_the_calls(recording):
    rec, out, objs = recording
    r = tracectl("replay", "-f", str(rec))
    assert r.returncode == 0, r.stderr
    assert len(re.findall(r'open(at)?\(AT_FDCWD, "/nonexistent-seeing", O_RDONLY\) += -1 ENOENT \(No such file or directory\)', r.stderr)) == 5
    # 7 + the child's; a call interleaved with another task's record (the
    # fork) comes split, and prints as strace prints it then
    assert len(re.findall(r"getppid(\(\)| resumed>\)) += \d+", r.stderr)) == 8
    assert "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER" in r.stderr
    assert re.search(r"\+\+\+ exited with 3 \+\+\+", r.stderr) and r.stderr.rstrip().endswith("+++ exited with 0 +++")
    # display filters: only the failed calls, with -tt and -T
    r = tracectl("replay", "-Z", "-tt", "-T", "-e", "trace=openat", str(rec))
    lines = [ln for ln in r.stderr.splitlines() if "nonexistent" in ln]
    assert len(lines) == 5 and all(re.match(r"\d\d:\d\d:\d\d\.\d{6} openat\(.*<\d+\.\d{6}>$", ln) for ln in lines), r.stderr
    assert "getppid" not in r.stderr and "= 0" not in r.stderr


def test_replay_as_json_lines(recording):
    import json

    rec, _out, objs = recording
    r = tracectl("replay", "-f", "--format=jsonl", "-e", "trace=getppid", str(rec))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(ln) for ln in r.stderr.splitlines() if ln.startswith("{")]
    # a split call is an entry line and an exit line; calls() keeps its exit
    got = [o["seq"] for o in lines if o.get("syscall") == "getppid" and o["type"] != "syscall_entry"]
    assert got == [o[1] for o in calls(objs, "getppid")]
    # a whole call's text is the line; a split call's entry has the head only
    # and its exit the rest (whether a call splits depends on the recording's timing)
    assert all(o["text"].startswith("getppid() = ") for o in lines if o.get("syscall") and o["type"] == "syscall"), lines
    assert all(o["text"].startswith(") = ") for o in lines if o.get("syscall") and o["type"] == "syscall_exit"), lines
    assert all(o["text"].startswith("getppid(") for o in lines if o["type"] == "syscall_entry"), lines


def test_replay_y_names_inherited_fds_from_the_recording(recording):
    rec, out, _objs = recording
    r = tracectl("replay", "-y", "-e", "trace=write", str(rec))
    assert f'write(1<{out}>, "hi\\n", 3) = 3' in r.stderr, r.stderr


def test_replay_c_counts_exactly_the_records(recording):
    rec, _out, objs = recording
    r = tracectl("replay", "-f", "-c", "-U", "name,calls,errors,p50-time,p99_time", str(rec))
    assert r.returncode == 0, r.stderr
    head, *rows = [ln.split() for ln in r.stderr.splitlines() if ln and not ln.startswith(("-", "tracectl: "))]
    assert head == ["syscall", "calls", "errors", "p50", "usecs", "p99", "usecs"]
    table = {row[0]: row for row in rows}
    getppid = calls(objs, "getppid")
    assert table["getppid"][1] == "8" == str(len(getppid))
    cpu = sorted(field(o, "cpu") for o in getppid)
    p50, p99 = cpu[3], cpu[7]  # nearest rank of 8: ceil(4)-1, ceil(7.92)-1
    assert table["getppid"][2:] == [f"{p50 // 1000}.{p50 % 1000:03d}", f"{p99 // 1000}.{p99 % 1000:03d}"]
    fails = calls(objs, "openat")
    assert table["openat"][2] == str(sum(1 for o in fails if field(o, "is_error")))
    # strace's default columns stay as they were
    r = tracectl("replay", "-c", str(rec))
    assert r.stderr.splitlines()[0].split() == ["%", "time", "seconds", "usecs/call", "calls", "errors", "syscall"]


def test_replay_refusals_name_what_to_record_with(recording, prog, tmp_path):
    rec, _out, _objs = recording
    plain = tmp_path / "plain.mp"
    assert tracectl("--embedded", "run", "--format=msgpack", "-o", str(plain), "--", str(prog), stdout=subprocess.DEVNULL).returncode == 0
    r = tracectl("replay", "-y", str(plain))
    assert r.returncode == 1 and r.stderr == f"tracectl: {plain}: -y needs the fd names seen while the processes ran: record with -y\n"
    r = tracectl("replay", "-c", str(plain))
    assert r.returncode == 1 and "record with -c" in r.stderr and r.stderr.count("\n") == 1
    assert tracectl("replay", "-c", "-w", str(plain)).returncode == 0
    r = tracectl("replay", "-f", str(plain))
    assert r.returncode == 1 and r.stderr.endswith("record with -f\n")
    r = tracectl("replay", "-s", "100", str(plain))
    assert r.returncode == 1 and "record with -s 100" in r.stderr
    r = tracectl("replay", "-yy", str(rec))
    assert r.returncode == 1 and "-yy" in r.stderr and r.stderr.count("\n") == 1
    r = tracectl("replay", "-E", "A=1", str(rec))
    assert r.returncode == 1 and "replay shows a recording" in r.stderr
    only = tmp_path / "only.mp"
    assert tracectl("--embedded", "run", "-e", "trace=getppid", "--format=msgpack", "-o", str(only), "--", str(prog), stdout=subprocess.DEVNULL).returncode == 0
    r = tracectl("replay", "-e", "trace=openat", str(only))
    assert r.returncode == 1 and "did not trace openat: record with -e trace=openat" in r.stderr
    # another version, and not a recording at all
    objs = list(msgpack.Unpacker(open(plain, "rb"), raw=False, strict_map_key=False))
    objs[0]["version"] = 99
    old = tmp_path / "old.mp"
    old.write_bytes(b"".join(msgpack.packb(o) for o in objs))
    r = tracectl("replay", str(old))
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "recording version 99" in r.stderr and "reads version 1" in r.stderr
    raw = tmp_path / "raw.mp"
    raw.write_bytes(b"".join(msgpack.packb(o) for o in objs[1:]))
    r = tracectl("replay", str(raw))
    assert r.returncode == 1 and "not a tracerd recording" in r.stderr and r.stderr.count("\n") == 1


def read_trace(path):
    from perfetto.protos.perfetto.trace.perfetto_trace_pb2 import Trace

    t = Trace()
    t.ParseFromString(open(path, "rb").read())
    return t


def slices(trace):
    """[(name, begin_ts, end_ts, categories, {annotation: value}, thread uuid)] per B/E pair."""
    from perfetto.protos.perfetto.trace.perfetto_trace_pb2 import TrackEvent

    open_: dict[int, list] = {}
    out = []
    for p in trace.packet:
        if not p.HasField("track_event"):
            continue
        e = p.track_event
        if e.type == TrackEvent.TYPE_SLICE_BEGIN:
            notes = {a.name: (a.string_value if a.HasField("string_value") else a.int_value) for a in e.debug_annotations}
            open_.setdefault(e.track_uuid, []).append((e.name, p.timestamp, list(e.categories), notes))
        elif e.type == TrackEvent.TYPE_SLICE_END:
            name, ts, cats, notes = open_[e.track_uuid].pop()
            out.append((name, ts, p.timestamp, cats, notes, e.track_uuid))
    assert not any(open_.values())
    return out


def test_perfetto_of_a_replay_matches_the_records(recording, tmp_path):
    rec, _out, objs = recording
    pf = tmp_path / "t.pftrace"
    r = tracectl("replay", "-f", "--format=perfetto", "-o", str(pf), str(rec))
    assert r.returncode == 0, r.stderr
    got = slices(read_trace(pf))
    # (seq, begin, dur, failed) of every call with an exit: a whole call, or an
    # entry and its exit (split around another task's records)
    want, entries = [], {}
    for o in objs:
        if not isinstance(o, list):
            continue
        if o[0] == Rec.SYSCALL_ENTRY:
            entries[o[3]] = o
        elif o[0] in (Rec.SYSCALL, Rec.SYSCALL_EXIT) and field(o, "dur") is not None and field(o, "ret") is not None:
            begin = o[2] if o[0] == Rec.SYSCALL else entries.pop(o[3])[2]
            want.append((o[1], begin, field(o, "dur"), bool(field(o, "is_error"))))
    assert len(got) == len(want) > 40
    by_seq = {n["seq"]: (b, e - b, "failed" in cats) for _name, b, e, cats, n, _u in got}
    for seq, begin, dur, failed in want:
        assert by_seq[seq] == (begin, dur, failed)


def test_perfetto_live_tracks_slices_instants_flows(prog, tmp_path):
    from perfetto.protos.perfetto.trace.perfetto_trace_pb2 import TrackEvent

    pf = tmp_path / "live.pftrace"
    r = tracectl("--embedded", "run", "-f", "--format=perfetto", "-o", str(pf), "--", str(prog), stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    t = read_trace(pf)
    got = slices(t)
    failed = [s for s in got if s[0] == "openat" and "failed" in s[3] and "nonexistent-seeing" in s[4]["args"]]
    assert len(failed) == 5 and all(s[4]["errno"] == "ENOENT" and s[4]["return"].startswith("-1 ENOENT") for s in failed)
    assert len([s for s in got if s[0] == "getppid"]) == 8
    assert all(e >= b for _n, b, e, *_ in got)
    names = {p.track_descriptor.process.process_name for p in t.packet if p.HasField("track_descriptor") and p.track_descriptor.HasField("process")}
    assert "prog" in names
    threads = {p.track_descriptor.thread.tid: p.track_descriptor.thread.thread_name for p in t.packet if p.HasField("track_descriptor") and p.track_descriptor.HasField("thread")}
    assert len(threads) == 2 and set(threads.values()) >= {"prog"}
    instants = [p.track_event for p in t.packet if p.HasField("track_event") and p.track_event.type == TrackEvent.TYPE_INSTANT]
    inames = [e.name for e in instants]
    assert "SIGUSR1" in inames and "exited with 3" in inames and "exited with 0" in inames
    forks = [e for e in instants if e.name in ("fork", "clone") and e.flow_ids]
    assert len(forks) == 1
    assert any(forks[0].flow_ids[0] in p.track_event.terminating_flow_ids for p in t.packet if p.HasField("track_event"))
    assert any(p.HasField("clock_snapshot") for p in t.packet)


def test_perfetto_needs_a_file(prog):
    r = tracectl("--embedded", "run", "--format=perfetto", "--", str(prog))
    assert r.returncode == 1 and r.stderr == "tracectl: --format=perfetto writes a binary trace: name it with -o FILE\n"


def test_live_c_with_percentile_columns(prog):
    r = tracectl("--embedded", "run", "-f", "-c", "-U", "name,calls,p99-time", "--", str(prog), stdout=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("tracectl: ")]
    assert lines[0].split() == ["syscall", "calls", "p99", "usecs"]
    row = next(ln.split() for ln in lines if ln.startswith("getppid "))
    assert row[1] == "8" and re.fullmatch(r"\d+\.\d{3}", row[2])
    r = tracectl("--embedded", "run", "-c", "-U", "name,p98-time", "--", "true")
    assert r.returncode == 1 and "unknown column name: 'p98-time'" in r.stderr
