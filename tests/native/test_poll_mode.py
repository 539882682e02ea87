"""The loop's other wait mode (signalfd + control fd + timerfd in one poll,
then a non-blocking wait drain) on the scenarios that exercise waiting:
many tasks, split records of a blocked call, signals, attach and detach."""

import os
import signal
import subprocess
import time

from native_helpers import by_type, calls, needs_root, run_traced

from _plans import filter_and_plan, nr_of, spec
from tracerd import _wire
from tracerd._wire import Rec, SysFlag

pytestmark = needs_root
POLL = {"wait": "poll"}


def test_poll_mode_processes_and_signals():
    recs, status, st = run_traced(["/bin/sh", "-c", "for i in $(seq 100); do /bin/true; done; kill -TERM $$"], ["execve"],
                                  worker_options=POLL)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM
    assert len(by_type(recs, Rec.NEWTASK)) == 101
    assert len(calls(recs, nr_of("execve"))) == 102  # sh, seq, 100 x true
    assert [_wire.field(r, "signo") for r in by_type(recs, Rec.KILLED)] == [signal.SIGTERM]


def test_poll_mode_blocked_call_split(cbuild):
    prog = cbuild("sleepread", r"""#include <unistd.h>
int main(void){ int p[2]; char c; pipe(p); if (!fork()) { usleep(80000); write(p[1], "x", 1); _exit(0); } return read(p[0], &c, 1) == 1 ? 0 : 1; }""")
    recs, status, _ = run_traced([prog], ["read"], flush_ms=10, worker_options=POLL)
    assert status == 0
    e = [r for r in by_type(recs, Rec.SYSCALL_ENTRY) if _wire.field(r, "nr") == nr_of("read")]
    x = [r for r in by_type(recs, Rec.SYSCALL_EXIT) if _wire.field(r, "nr") == nr_of("read")]
    assert len(e) == 1 and len(x) == 1 and _wire.field(x[0], "ret") == 1
    assert not _wire.field(x[0], "flags") & SysFlag.VANISHED


def test_poll_mode_attach_detach(cbuild):
    from tracerd.client._embedded import EmbeddedAttach

    prog = cbuild("ppidloop", r"""#include <stdio.h>
#include <unistd.h>
int main(void){ printf("ready\n"); fflush(stdout); for (;;) { getppid(); usleep(1000); } }""")
    p = subprocess.Popen([prog], stdout=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"ready\n"
        _, plan = filter_and_plan(spec(["getppid"]))
        a = EmbeddedAttach([p.pid], plan=plan, worker_options=POLL).start()
        recs = []
        for rec in a.records():
            recs.append(rec)
            if len(calls(recs, nr_of("getppid"))) >= 5:
                break
        a.close()
        assert a.worker_status == 0
        time.sleep(0.05)
        assert p.poll() is None
    finally:
        p.kill()
        p.wait()
