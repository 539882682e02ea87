"""Following every task: fork, vfork, clone, clone3, threads, exec from a
thread, i386 calls and forks, and many tasks."""

import os

import pytest

from native_helpers import by_type, calls, mem_of, needs_root, run_traced

from _plans import nr_of
from tracerd import _wire
from tracerd._wire import NewTask, Pers, Rec

pytestmark = needs_root

FORKS = r"""#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
static char stack[65536];
static int child(void *a) { syscall(SYS_getppid); return 4; }
int main(void) {
	int st, sum = 0;
	pid_t p = fork();
	if (!p) { syscall(SYS_getppid); _exit(1); }
	waitpid(p, &st, 0); sum += WEXITSTATUS(st);
	p = vfork();
	if (!p) { syscall(SYS_getppid); _exit(2); }
	waitpid(p, &st, 0); sum += WEXITSTATUS(st);
	p = clone(child, stack + sizeof stack, SIGCHLD, 0);
	waitpid(p, &st, 0); sum += WEXITSTATUS(st);
	struct clone_args ca; memset(&ca, 0, sizeof ca); ca.exit_signal = SIGCHLD;
	p = syscall(SYS_clone3, &ca, sizeof ca);
	if (!p) { syscall(SYS_getppid); _exit(8); }
	waitpid(p, &st, 0); sum += WEXITSTATUS(st);
	return sum == 15 ? 0 : 1;
}
"""


def test_fork_vfork_clone_clone3_followed(cbuild):
    prog = cbuild("forks", FORKS)
    recs, status, _ = run_traced([prog], ["getppid"])
    assert status == 0
    news = by_type(recs, Rec.NEWTASK)
    hows = [_wire.field(r, "how") for r in news]
    assert hows == [NewTask.FORK, NewTask.VFORK, NewTask.FORK, NewTask.FORK] or hows == [
        NewTask.FORK, NewTask.VFORK, NewTask.CLONE, NewTask.CLONE]
    children = [_wire.field(r, "child") for r in news]
    ppids = calls(recs, nr_of("getppid"))
    # every child's getppid was seen, from the child, returning the parent
    assert sorted(r[3] for r in ppids) == sorted(children)
    parent = news[0][3]
    assert all(_wire.field(r, "ret") == parent for r in ppids)
    exits = {r[3]: _wire.field(r, "status") for r in by_type(recs, Rec.EXIT)}
    assert [exits[c] for c in children] == [1, 2, 4, 8]
    # each child is its own thread group
    assert all(r[3] == r[4] for r in ppids)


THREADS = r"""#include <pthread.h>
#include <unistd.h>
#include <sys/syscall.h>
#define N 64
static void *t(void *a) { syscall(SYS_getppid); return 0; }
int main(void) {
	pthread_t th[N];
	for (int i = 0; i < N; i++) pthread_create(&th[i], 0, t, 0);
	for (int i = 0; i < N; i++) pthread_join(th[i], 0);
	return 0;
}
"""


def test_64_threads(cbuild):
    prog = cbuild("threads", THREADS)
    recs, status, st = run_traced([prog], ["getppid"])
    assert status == 0
    ppids = calls(recs, nr_of("getppid"))
    assert len(ppids) == 64
    tgid = ppids[0][4]
    assert all(r[4] == tgid for r in ppids)
    assert len({r[3] for r in ppids}) == 64
    assert {_wire.field(r, "how") for r in by_type(recs, Rec.NEWTASK)} == {NewTask.CLONE}
    assert st["tasks_max"] >= 2


EXEC_THREAD = r"""#include <pthread.h>
#include <unistd.h>
static char *self;
static void *t(void *a) { char *argv[] = { self, "child", 0 }; execv(self, argv); return 0; }
int main(int argc, char **argv) {
	pthread_t th;
	if (argc > 1) return 6;
	self = argv[0];
	pthread_create(&th, 0, t, 0);
	pause();
	return 0;
}
"""


def test_exec_from_thread(cbuild):
    prog = cbuild("execthr", EXEC_THREAD)
    recs, status, _ = run_traced([prog], ["execve", "exit_group"])
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 6
    (thread,) = by_type(recs, Rec.NEWTASK)
    leader, tid = thread[3], _wire.field(thread, "child")
    execs = by_type(recs, Rec.EXEC)
    # the second exec was made by the thread: it takes the leader's id
    assert [(r[3], _wire.field(r, "old_tid")) for r in execs] == [(leader, leader), (leader, tid)]
    ev = calls(recs, nr_of("execve"))
    assert len(ev) == 2 and all(_wire.field(r, "ret") == 0 for r in ev)
    assert mem_of(ev[1], 0, 1)[0] == 2
    eg = calls(recs, nr_of("exit_group"))
    assert [r[3] for r in eg] == [leader]


I386 = r"""#include <unistd.h>
#include <sys/wait.h>
static long sys32(long nr, long a) {
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a) : "memory");
	return ret;
}
int main(void) {
	sys32(20, 0);                 /* i386 getpid */
	long c = sys32(2, 0);         /* i386 fork */
	if (c == 0) { sys32(64, 0); sys32(1, 9); }   /* i386 getppid, exit */
	int st; waitpid(c, &st, 0);
	return WEXITSTATUS(st) == 9 ? 0 : 1;
}
"""


def test_i386_calls_and_fork(cbuild):
    prog = cbuild("i386", I386)
    extra = {(Pers.I386, n): (_wire.EntryFlag.EXIT, []) for n in ("getpid", "getppid", "fork")}
    recs, status, _ = run_traced([prog], ["getpid", "getppid"], extra=extra)
    assert status == 0
    i386 = [(r[3], _wire.field(r, "nr")) for r in calls(recs) if _wire.field(r, "pers") == Pers.I386]
    (new,) = by_type(recs, Rec.NEWTASK)
    parent, child = new[3], _wire.field(new, "child")
    # named by their i386 numbers (getpid 20, fork 2, getppid 64), never as x86_64 ones
    assert i386 == [(parent, 20), (parent, 2), (child, 64)] or i386 == [(parent, 20), (child, 64), (parent, 2)]
    forks = [r for r in calls(recs, 2, Pers.I386)]
    assert _wire.field(forks[0], "ret") == child
    assert not calls(recs, nr_of("getppid"))  # the x86_64 getppid never ran


def test_many_processes():
    n = 300
    recs, status, st = run_traced(["/bin/sh", "-c", f"i=0; while [ $i -lt {n} ]; do /bin/true; i=$((i+1)); done"], ["execve"])
    assert status == 0
    assert len(by_type(recs, Rec.NEWTASK)) == n
    assert len(calls(recs, nr_of("execve"))) == n + 1
    assert len(by_type(recs, Rec.EXIT)) == n + 1
    assert st["tasks_total"] == n + 1


@pytest.mark.timeout(60)
def test_children_that_die_before_their_parents_event():
    # nothing traced: a child may run, exit and be reaped by us before its
    # parent's fork event arrives; that event must not bring a ghost back
    # (the loop would then wait for it forever: the timeout fails the test)
    for _ in range(3):
        recs, status, st = run_traced(["/bin/sh", "-c", "for i in $(seq 200); do /bin/true; done"], [])
        assert status == 0
        # 200 x true and the $(seq) subshell
        assert len(by_type(recs, Rec.NEWTASK)) == 201 and len(by_type(recs, Rec.EXIT)) == 202


I386_EXEC = r"""#include <stdint.h>
static char path[] = "/bin/true";
static char a0[] = "true", a1[] = "i386-arg";
static uint32_t argv32[3], envp32[1];
int main(void) {
	long ret;
	argv32[0] = (uint32_t)(uintptr_t)a0; argv32[1] = (uint32_t)(uintptr_t)a1; argv32[2] = 0; envp32[0] = 0;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(11), "b"(path), "c"(argv32), "d"(envp32) : "memory");
	return 1;
}
"""


def test_i386_execve_reads_32bit_pointers(cbuild):
    prog = cbuild("i386exec", I386_EXEC, "-no-pie")
    N = _wire.LEN_NONE
    ops = [(0, _wire.Op.CSTR, 0, N, 4096), (0, _wire.Op.STRARR, 1, N, 0), (0, _wire.Op.STRARR, 2, N, 0)]
    flags = _wire.EntryFlag.EXIT | _wire.EntryFlag.FETCH_ENTRY
    recs, status, _ = run_traced([prog], entries={(Pers.I386, "execve"): (flags, ops)})
    assert status == 0  # /bin/true ran
    (ev,) = calls(recs, 11, Pers.I386)
    assert _wire.field(ev, "ret") == 0
    assert mem_of(ev, 0, 0) == b"/bin/true\0"
    assert mem_of(ev, 0, 1) == [2, b"true\0", b"i386-arg\0"]
    assert mem_of(ev, 0, 2) == [0]
