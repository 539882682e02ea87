"""Attach mode: plain syscall stops filtered in the loop, clean detach."""

import os
import signal
import subprocess
import time

from native_helpers import by_type, calls, needs_root

from _plans import filter_and_plan, nr_of, spec
from tracerd import _wire
from tracerd._wire import Rec

pytestmark = needs_root

LOOP = r"""#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
static void *t(void *a) { for (;;) { syscall(SYS_getppid); usleep(2000); } }
int main(void) {
	pthread_t th[3];
	for (int i = 0; i < 3; i++) pthread_create(&th[i], 0, t, 0);
	printf("ready\n"); fflush(stdout);
	for (;;) { syscall(SYS_getpid); usleep(2000); }
}
"""


def _start(cbuild):
    prog = cbuild("attachloop", LOOP, "-lpthread")
    p = subprocess.Popen([prog], stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    return p


def _state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def _tracer(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
    return None


def test_attach_filter_and_detach(cbuild):
    from tracerd.client._embedded import EmbeddedAttach

    p = _start(cbuild)
    try:
        _, plan = filter_and_plan(spec(["getppid"]))
        a = EmbeddedAttach([p.pid], plan=plan, stats=True).start()
        tids = sorted(int(t) for t in os.listdir(f"/proc/{p.pid}/task"))
        assert all(_tracer(t) != 0 for t in tids)
        recs = []
        # whole frames: breaking out of records() mid-frame would drop the
        # rest of that frame (an exit whose entry was split, say)
        for _first, _count, payload in a.frames():
            recs.extend(_wire.iter_records(payload))
            if len(calls(recs, nr_of("getppid"))) >= 30:
                break
        a.detach()
        recs.extend(a.records())
        a.close()
        seqs = [r[1] for r in recs]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # none lost
        attached = sorted(r[3] for r in by_type(recs, Rec.ATTACH))
        detached = sorted(r[3] for r in by_type(recs, Rec.DETACH))
        assert attached == tids and detached == tids
        got = calls(recs)
        # only getppid: getpid and nanosleep were stopped at but not recorded
        assert got and {_wire.field(r, "nr") for r in got} == {nr_of("getppid")}
        assert all(_wire.field(r, "ret") == os.getpid() for r in got)
        assert a.stats["syscall_stops"] > 2 * len(got)
        assert a.worker_status == 0
        # left running, untraced
        assert all(_tracer(t) == 0 for t in tids)
        time.sleep(0.05)
        assert p.poll() is None and _state(p.pid) in "RS"
    finally:
        p.kill()
        p.wait()


def test_killed_worker_leaves_process_running(cbuild):
    from tracerd.client._embedded import EmbeddedAttach

    p = _start(cbuild)
    try:
        _, plan = filter_and_plan(spec(["getppid"]))
        a = EmbeddedAttach([p.pid], plan=plan).start()
        it = a.records()
        for rec in it:
            if rec[0] == Rec.SYSCALL:
                break
        a._worker.send_signal(signal.SIGKILL)
        a._worker.wait()
        a.close()
        time.sleep(0.05)
        assert p.poll() is None
        assert _tracer(p.pid) == 0 and _state(p.pid) in "RS"
    finally:
        p.kill()
        p.wait()


def test_blocked_call_at_attach_is_shown(cbuild):
    from tracerd.client._embedded import EmbeddedAttach

    prog = cbuild("readblock", r"""#include <stdio.h>
#include <unistd.h>
int main(void){ char c; printf("ready\n"); fflush(stdout); return read(0, &c, 1) == 1 && c == 'x' ? 0 : 1; }""")
    p = subprocess.Popen([prog], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"ready\n"
        while _state(p.pid) != "S":
            time.sleep(0.01)
        _, plan = filter_and_plan(spec(["read"]))
        a = EmbeddedAttach([p.pid], plan=plan, flush_ms=10).start()
        recs = []
        for rec in a.records():
            recs.append(rec)
            if rec[0] == Rec.SYSCALL_ENTRY:
                break
        p.stdin.write(b"x")
        p.stdin.flush()
        for rec in a.records():
            recs.append(rec)
            if rec[0] in (Rec.SYSCALL_EXIT, Rec.EXIT):
                break
        a.close()
        (e,) = by_type(recs, Rec.SYSCALL_ENTRY)
        (x,) = by_type(recs, Rec.SYSCALL_EXIT)
        assert _wire.field(e, "nr") == nr_of("read") and _wire.field(x, "ret") == 1
        assert p.wait() == 0
    finally:
        p.kill()
        p.wait()


def test_attach_group_stopped_stays_stopped(cbuild):
    from tracerd.client._embedded import EmbeddedAttach

    p = _start(cbuild)
    try:
        os.kill(p.pid, signal.SIGSTOP)
        while _state(p.pid) != "T":
            time.sleep(0.01)
        _, plan = filter_and_plan(spec(["getppid"]))
        a = EmbeddedAttach([p.pid], plan=plan).start()
        recs = []
        for rec in a.records():
            recs.append(rec)
            if len(by_type(recs, Rec.STOPPED)) == 4:
                break
        a.close()
        assert {_wire.field(r, "signo") for r in by_type(recs, Rec.STOPPED)} == {signal.SIGSTOP}
        time.sleep(0.05)
        assert _state(p.pid) == "T" and _tracer(p.pid) == 0
        os.kill(p.pid, signal.SIGCONT)
        time.sleep(0.05)
        assert _state(p.pid) in "RS"
    finally:
        p.kill()
        p.wait()


def test_attach_missing_pid():
    from tracerd import TracerError
    from tracerd.client._embedded import EmbeddedAttach

    _, plan = filter_and_plan(spec(["getppid"]))
    try:
        EmbeddedAttach([4000000], plan=plan).start()
    except TracerError as exc:
        assert str(exc) == "attach: ptrace(PTRACE_SEIZE, 4000000): No such process"
    else:
        raise AssertionError("attaching a missing pid must fail")

