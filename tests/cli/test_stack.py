"""-k / --stack-traces end to end: a program whose call stack is known
(a() -> b() -> write, a signal, then a write from a library dlopen'd after
the first stack was taken: the module cache must be read again), traced by
tracectl and by strace 6.1 -k; the frames must be the same lines."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from test_run import NATIVE, strace, tracectl

pytestmark = [
    pytest.mark.skipif(NATIVE is not None, reason=f"native loop or bpf compiler missing: {NATIVE}"),
    pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("strace") is None, reason="gcc or strace missing"),
]

LIB = r"""
#include <unistd.h>
__attribute__((noinline)) void w(void) { write(1, "lib\n", 4); }
"""

MAIN = r"""
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>
static void on_usr1(int s) { (void)s; }
__attribute__((noinline)) void b(void) { write(1, "x\n", 2); }
__attribute__((noinline)) void a(void) { b(); }
int main(int argc, char **argv) {
	a();
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	void *h = dlopen(argv[1], RTLD_NOW);
	if (!h)
		return 2;
	void (*w)(void) = (void (*)(void))dlsym(h, "w");
	w();
	return 0;
}
"""


THREADS = r"""
#include <pthread.h>
#include <unistd.h>
__attribute__((noinline)) void b(void) { getppid(); }
static void *run(void *p) { (void)p; for (int i = 0; i < 3; i++) b(); return 0; }
int main(void) {
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], 0, run, 0);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], 0);
	b();
	return 0;
}
"""


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    d = tmp_path_factory.mktemp("stack")
    (d / "w.c").write_text(LIB)
    (d / "main.c").write_text(MAIN)
    subprocess.run(["gcc", "-g", "-O0", "-shared", "-fPIC", "-o", str(d / "libw.so"), str(d / "w.c")], check=True)
    subprocess.run(["gcc", "-g", "-O0", "-o", str(d / "stk"), str(d / "main.c"), "-ldl"], check=True)
    (d / "mt.c").write_text(THREADS)
    subprocess.run(["gcc", "-g", "-O0", "-pthread", "-o", str(d / "mt"), str(d / "mt.c")], check=True)
    return d


def _lines(text: str) -> list[str]:
    """The trace without what differs from run to run (pids, addresses)."""
    text = re.sub(r"0x[0-9a-f]{8,}", "ADDR", text)
    text = re.sub(r"si_pid=\d+", "si_pid=N", text)
    return text.splitlines()


@pytest.mark.parametrize("follow", [(), ("-f",)], ids=["plain", "filter"])
def test_frames_match_strace(prog, follow):
    argv = [*follow, "-k", "-e", "trace=write,rt_sigaction,exit_group", str(prog / "stk"), str(prog / "libw.so")]
    ours = tracectl(*argv)
    theirs = strace(*argv)
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    got, want = _lines(ours.stderr), _lines(theirs.stderr)
    frames = [ln for ln in got if ln.startswith(" > ")]
    # the known stack, by module and symbol
    assert any(f" > {prog}/stk(b+0x" in ln for ln in frames), ours.stderr
    assert any(f" > {prog}/stk(a+0x" in ln for ln in frames), ours.stderr
    assert any(f" > {prog}/libw.so(w+0x" in ln for ln in frames), ours.stderr  # mapped after the first unwind
    assert any("libc.so.6(__write+0x" in ln for ln in frames), ours.stderr
    # and every line as strace prints it (the frames after the calls, the
    # signal's, exit_group's after `+++ exited`); with -f the filter stops
    # mmap & co for the cache, and prints none of them
    assert got == want


def test_no_frames_without_k(prog):
    r = tracectl("-f", "-e", "trace=write", str(prog / "stk"), str(prog / "libw.so"))
    assert r.returncode == 0, r.stderr
    assert "write(1, " in r.stderr and " > " not in r.stderr


def test_long_option(prog):
    r = tracectl("--stack-traces", "-e", "trace=exit_group", "true")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^ > .*libc\.so\.6\(_exit\+0x[0-9a-f]+\) \[0x[0-9a-f]+\]$", r.stderr, re.M), r.stderr


def test_threads_frames_match_strace(prog):
    """Each thread is unwound on its own: the same frames as strace's, in
    whatever order the threads ran."""
    argv = ["-f", "-k", "-e", "trace=getppid", str(prog / "mt")]
    ours, theirs = tracectl(*argv), strace(*argv)
    assert ours.returncode == theirs.returncode == 0, ours.stderr

    def frames(text):
        return sorted(ln for ln in text.splitlines() if ln.startswith(" > "))

    got = frames(ours.stderr)
    assert sum(f"{prog}/mt(run+0x" in ln for ln in got) == 9, ours.stderr
    assert got == frames(theirs.stderr)


CXX = r"""
#include <unistd.h>
namespace n { __attribute__((noinline)) void f(int) { write(1, "x\n", 2); } }
int main() { n::f(1); }
"""


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ missing")
def test_cxx_names_demangled_as_strace(tmp_path):
    (tmp_path / "cp.cc").write_text(CXX)
    subprocess.run(["g++", "-g", "-O0", "-o", str(tmp_path / "cp"), str(tmp_path / "cp.cc")], check=True)
    argv = ["-k", "-e", "trace=write", str(tmp_path / "cp")]
    ours, theirs = tracectl(*argv), strace(*argv)
    assert f" > {tmp_path}/cp(n::f(int)+0x" in ours.stderr, ours.stderr
    assert _lines(ours.stderr) == _lines(theirs.stderr)


# The tracee counts the lines of its tracer's (the worker's) maps that name
# libdw, after a traced getpid (whose stack -k has taken by then).
MAPS_PROBE = (
    "import os; os.getpid(); "
    "t = [ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('TracerPid:')][0]; "
    "print(sum('libdw' in ln for ln in open(f'/proc/{t}/maps')))"
)


@pytest.mark.integration
@pytest.mark.parametrize("k", [(), ("-k",)], ids=["without-k", "with-k"])
def test_libdw_loaded_only_under_k(k):
    """libdw (and libelf) are loaded by the worker at its first stack, not
    linked into it: without -k the worker maps none of them."""
    r = tracectl(*k, "-e", "trace=getpid", "/usr/bin/python3", "-c", MAPS_PROBE)
    assert r.returncode == 0, r.stderr
    assert "getpid()" in r.stderr
    n = int(r.stdout.strip().splitlines()[-1])
    assert (n > 0) == bool(k), (n, r.stderr)
