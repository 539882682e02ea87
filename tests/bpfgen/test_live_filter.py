"""A generated filter installed for real: a child is seized with
PTRACE_O_TRACESECCOMP, installs the filter, execs a small C program; the
tracer sees PTRACE_EVENT_SECCOMP with the right data bits for the selected
calls only — including an `int $0x80` call matched by its i386 number."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess

import pytest

pytest.importorskip("pyseccomp")

from tracerd._wire import AUDIT_ARCH, EntryFlag, Pers
from tracerd.bpfgen import Qualifiers, compile_filter, trace_flags

PROGRAM = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>

static long int80(long nr)
{
	long r;
	__asm__ volatile ("int $0x80" : "=a"(r) : "a"(nr) : "memory", "r8", "r9", "r10", "r11");
	return r;
}

static long int80_2(long nr, long a, long b)
{
	long r;
	__asm__ volatile ("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b) : "memory", "r8", "r9", "r10", "r11");
	return r;
}

/* socketcall's argument block must sit below 4 GiB: a -no-pie static. */
static unsigned int sock_args[3] = { 1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0 };

int main(int argc, char **argv)
{
	long ppid = syscall(SYS_getppid);                                  /* selected */
	long pid = syscall(SYS_getpid);                                    /* not selected */
	syscall(SYS_unlinkat, AT_FDCWD, "/nonexistent/tracerd-bpfgen", 0); /* selected, has a path */
	if (argc > 1) {
		long pid32 = int80(20);   /* i386 getpid: not selected */
		long ppid32 = int80(64);  /* i386 getppid: selected */
		if (pid32 != pid || ppid32 != ppid)
			return 3;
	}
	if (argc > 2) {
		long fd = int80_2(102, 1 /* SYS_SOCKET */, (long)(unsigned long)sock_args);
		if (fd < 0)
			return 4;
		close((int)fd);
	}
	return 0;
}
"""

# linux/ptrace.h, linux/seccomp.h, linux/prctl.h
PTRACE_CONT = 7
PTRACE_GETEVENTMSG = 0x4201
PTRACE_SEIZE = 0x4206
PTRACE_GET_SYSCALL_INFO = 0x420E
PTRACE_O_TRACEEXEC = 0x10
PTRACE_O_TRACESECCOMP = 0x80
PTRACE_O_EXITKILL = 0x100000
PTRACE_EVENT_EXEC = 4
PTRACE_EVENT_SECCOMP = 7
PTRACE_SYSCALL_INFO_SECCOMP = 3
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
SYS_seccomp = 317

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


class SyscallInfo(ctypes.Structure):
    _fields_ = [
        ("op", ctypes.c_uint8),
        ("pad", ctypes.c_uint8 * 3),
        ("arch", ctypes.c_uint32),
        ("instruction_pointer", ctypes.c_uint64),
        ("stack_pointer", ctypes.c_uint64),
        ("nr", ctypes.c_uint64),
        ("args", ctypes.c_uint64 * 6),
        ("ret_data", ctypes.c_uint32),
        ("pad2", ctypes.c_uint32),
    ]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    d = tmp_path_factory.mktemp("bpfgen")
    (d / "prog.c").write_text(PROGRAM)
    subprocess.run([gcc, "-O1", "-no-pie", "-o", str(d / "prog"), str(d / "prog.c")], check=True)
    return str(d / "prog")


@pytest.fixture(scope="module")
def has_int80(program):
    """int $0x80 works only with the kernel's IA32 emulation."""
    return subprocess.run([program, "int80"]).returncode == 0


def _ptrace(req, pid, addr=0, data=0):
    r = libc.ptrace(req, pid, addr, data)
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def trace_run(program: str, bpf: bytes, argv_extra=()) -> tuple[list[tuple[int, int, int, int]], int]:
    """Run `program` under `bpf`; return [(arch, nr, eventmsg, ret_data)] of
    each seccomp stop and the exit status."""
    r, w = os.pipe()
    buf = ctypes.create_string_buffer(bpf, len(bpf))
    prog = SockFprog(len(bpf) // 8, ctypes.cast(buf, ctypes.c_void_p))
    pid = os.fork()
    if pid == 0:  # child: wait to be seized, install the filter, exec
        try:
            os.close(w)
            os.read(r, 1)
            if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                os._exit(120)
            if libc.syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, ctypes.byref(prog)) != 0:
                os._exit(121)
            os.execv(program, [program, *argv_extra])
        finally:
            os._exit(122)
    os.close(r)
    stops = []
    try:
        _ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)
        os.write(w, b"g")
        os.close(w)
        w = -1
        while True:
            _, status = os.waitpid(pid, 0)
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                return stops, status
            sig, event = os.WSTOPSIG(status), status >> 16
            inject = 0
            if sig == signal.SIGTRAP and event == PTRACE_EVENT_SECCOMP:
                msg = ctypes.c_ulong()
                _ptrace(PTRACE_GETEVENTMSG, pid, 0, ctypes.addressof(msg))
                info = SyscallInfo()
                n = _ptrace(PTRACE_GET_SYSCALL_INFO, pid, ctypes.sizeof(info), ctypes.addressof(info))
                assert n > 0 and info.op == PTRACE_SYSCALL_INFO_SECCOMP
                stops.append((info.arch, info.nr, msg.value, info.ret_data))
            elif event == 0:
                inject = sig  # a real signal: deliver it
            _ptrace(PTRACE_CONT, pid, 0, inject)
    finally:
        if w >= 0:
            os.close(w)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def sel(expr):
    q = Qualifiers()
    q.qualify(expr)
    return q.trace


X86_64 = AUDIT_ARCH[Pers.X86_64]
I386 = AUDIT_ARCH[Pers.I386]


def test_selected_calls_stop_with_their_flags(program):
    trace = sel("trace=getppid,unlinkat")
    stops, status = trace_run(program, compile_filter(trace))
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    flags = trace_flags(trace)
    want = [
        (X86_64, 110, flags[(Pers.X86_64, 110)], flags[(Pers.X86_64, 110)]),
        (X86_64, 263, flags[(Pers.X86_64, 263)], flags[(Pers.X86_64, 263)]),
    ]
    assert want[0][2] == EntryFlag.EXIT and want[1][2] == EntryFlag.EXIT | EntryFlag.FETCH_ENTRY
    assert stops == want  # and no stop for getpid (39) or anything the loader did


def test_entry_only_data_bits(program):
    trace = sel("trace=getppid,unlinkat")
    stops, status = trace_run(program, compile_filter(trace, entry_only=True))
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert [(nr, data) for _, nr, data, _ in stops] == [(110, 0), (263, int(EntryFlag.FETCH_ENTRY))]


def test_int80_matched_by_its_i386_number(program, has_int80):
    if not has_int80:
        pytest.skip("this kernel has no IA32 emulation (int $0x80)")
    trace = sel("trace=getppid")  # every personality
    stops, status = trace_run(program, compile_filter(trace), ["int80"])
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    exit_ = int(EntryFlag.EXIT)
    assert stops == [(X86_64, 110, exit_, exit_), (I386, 64, exit_, exit_)]
    # i386 20 is getpid there (and not selected); x86_64-only selection misses int $0x80
    stops, status = trace_run(program, compile_filter(sel("trace=getppid@64")), ["int80"])
    assert os.WEXITSTATUS(status) == 0
    assert stops == [(X86_64, 110, exit_, exit_)]
    stops, status = trace_run(program, compile_filter(sel("trace=getppid@32")), ["int80"])
    assert stops == [(I386, 64, exit_, exit_)]


def test_none_stops_nothing(program, has_int80):
    stops, status = trace_run(program, compile_filter(sel("trace=none")), ["int80"] if has_int80 else [])
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert stops == []


def test_i386_socketcall_is_traced_whole(program, has_int80):
    """trace=connect@32 traces socketcall whatever its subcall (here
    SYS_SOCKET): the filter cannot look at arguments and stay cacheable."""
    if not has_int80:
        pytest.skip("this kernel has no IA32 emulation (int $0x80)")
    trace = sel("trace=connect@32")
    stops, status = trace_run(program, compile_filter(trace), ["int80", "socket"])
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    data = trace_flags(trace)[(Pers.I386, 102)]
    assert data == EntryFlag.EXIT | EntryFlag.FETCH_ENTRY  # socketcall reads its argument block
    assert stops == [(I386, 102, data, data)]
    # x86_64-only network tracing does not stop the i386 multiplexer
    stops, status = trace_run(program, compile_filter(sel("trace=socket@64")), ["int80", "socket"])
    assert os.WEXITSTATUS(status) == 0 and stops == []
