"""Fork the command to trace, hold it until its tracer has seized it, then let
it install the seccomp filter and exec (docs/protocol.md).

The command is forked here, by tracectl, in both embedded and daemon mode, so
it keeps our namespaces, cgroup, tty, environment and every inherited fd.
The child talks to us over two pipes: commands in (``T`` + pid: name a
ptracer for Yama; ``R``: release), acknowledgements out.

seccomp(2) and prctl(2) have no Python binding, so the child calls them
through the native module (native/launch.c: importing ctypes and setting it
up was ~1.7 ms of every start, the native module ~0.7); everything it
needs is prepared before the fork.
"""

from __future__ import annotations

import os
import signal
import stat
import struct

from tracerd._errors import NativeMissing, TracerError



def inherited_environ() -> dict:
    """The environment tracectl was started with, which the command gets
    (as through strace's exec): os.environ less the LC_CTYPE that Python's
    C locale coercion (PEP 538) added at startup when the locale was C;
    /proc/self/environ holds the environment as exec'ed."""
    env = dict(os.environ)
    if "LC_CTYPE" in env:
        try:
            with open("/proc/self/environ", "rb") as f:
                initial = f.read().split(b"\0")
        except OSError:
            return env
        if not any(e.startswith(b"LC_CTYPE=") for e in initial):
            del env["LC_CTYPE"]
    return env

def _native():
    """The native module's ffi and lib (tracer.h's tr_launch_*)."""
    try:
        from tracerd.native._tracer import ffi, lib
    except ImportError as exc:
        raise NativeMissing(f"the native loop is not built ({exc}): run scripts/setup") from None
    return ffi, lib


def resolve(name: str) -> str:
    """The path strace would exec: a name with a slash as is, else the first
    regular executable file on $PATH. Raises TracerError with strace's words."""
    if "/" in name:
        try:
            os.stat(name)
        except OSError as exc:
            raise TracerError(f"Can't stat '{name}': {os.strerror(exc.errno)}") from None
        return name
    for d in os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(":"):
        p = os.path.join(d or ".", name)
        try:
            st = os.stat(p)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111:
            return p
    raise TracerError(f"Can't stat '{name}': No such file or directory")


# What fds 0-2 named when the last command was launched (it inherited them):
# once it runs, `run` gives its own 0 and 1 away (client/_cmd_run.py), so a
# reader that wants what the command started with (a recording's fd names
# for a command already gone) asks here.
LAUNCH_FDS: dict[int, str] = {}


def read_to_eof(fd: int) -> bytes:
    """All a pipe holds until its writers close it; `fd` is closed."""
    chunks = []
    try:
        while True:
            b = os.read(fd, 65536)
            if not b:
                return b"".join(chunks)
            chunks.append(b)
    finally:
        os.close(fd)


def _read_exact(fd: int, n: int) -> bytes:
    out = b""
    while len(out) < n:
        b = os.read(fd, n - len(out))
        if not b:
            break
        out += b
    return out


class Child:
    """A forked command waiting on a pipe for its tracer."""

    def __init__(self, pid: int, cmd_w: int, ack_r: int, daemonized: bool = False):
        self.pid = pid
        self._cmd_w = cmd_w
        self._ack_r = ack_r
        self.pidfd = os.pidfd_open(pid)
        self._status = None
        # set by release() when the command's exec failed: strace's child
        # prints "exec: ERROR" after its tracer printed the failed execve,
        # so the message is left to the printer (Printer's exec_error)
        self.exec_errno: int | None = None
        # -D: the command is our caller's process, not our child (its
        # status is its caller's to wait for)
        self.daemonized = daemonized

    def allow_tracer(self, pid: int) -> None:
        """Let `pid` and its descendants ptrace the child (Yama's
        PR_SET_PTRACER); harmless where Yama is off."""
        os.write(self._cmd_w, b"T" + struct.pack("<i", pid))
        if _read_exact(self._ack_r, 1) != b"t":
            raise TracerError(f"the command (pid {self.pid}) went away before it was traced")

    def release(self) -> None:
        """Let the child install its filter and exec. Returns once the exec
        happened or failed (a failed exec sets `exec_errno`; the child
        exits with status 1, as under strace)."""
        if self._cmd_w < 0:
            return
        try:
            os.write(self._cmd_w, b"R")
        finally:
            os.close(self._cmd_w)
            self._cmd_w = -1
        self.exec_result()

    def exec_result(self) -> int | None:
        """The failed exec's errno, None when it succeeded; blocks until the
        child has exec'd or exited."""
        if self._ack_r < 0:
            return self.exec_errno
        # the ack pipe is close-on-exec: EOF means the exec succeeded or
        # the child exited; a failed exec sends "E" and its errno first
        got = read_to_eof(self._ack_r)
        self._ack_r = -1
        if got[:1] == b"E" and len(got) >= 5:
            (self.exec_errno,) = struct.unpack("<i", got[1:5])
        return self.exec_errno

    def kill(self) -> None:
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def wait(self) -> int:
        """The child's os.waitpid status (None with -D: not our child)."""
        if self.daemonized:
            for fd in (self._cmd_w, self._ack_r):
                if fd >= 0:
                    os.close(fd)
            self._cmd_w = self._ack_r = -1
            return None
        if self._status is None:
            for fd in (self._cmd_w, self._ack_r):
                if fd >= 0:
                    os.close(fd)
            self._cmd_w = self._ack_r = -1
            while True:
                try:
                    _, self._status = os.waitpid(self.pid, 0)
                    break
                except InterruptedError:
                    continue
            os.close(self.pidfd)
        return self._status


# fds of 0, 1, 2 that were closed when tracectl started (_cli holds them on
# /dev/null meanwhile): the command gets them closed
CLOSED_AT_START: set[int] = set()
# the signals blocked when the tracectl command started (_cli notes them):
# the command starts with them blocked, as under strace; None (a caller
# that is not the command, e.g. a test): an empty mask
START_MASK: set | None = None


def launch(argv, *, bpf: bytes | None, env=None, cwd=None, user=None, ignored=(), daemonize: int = 0) -> Child:
    """Fork `argv` and hold it; see Child. `bpf` is the raw sock_filter array,
    or None: no filter (run without -f: the tracer stops at every call of
    the command alone, and its children are free to be ptraced by it).
    `user`: (uid, gid, groups) to take after the filter is in (strace -u):
    installed while still root it needs no NO_NEW_PRIVS, so setuid and
    setgid programs the command runs keep working.
    `ignored`: signals that were ignored when tracectl started (nohup, a
    background job's SIGINT): the command inherits SIG_IGN for them, as it
    would through strace's exec, though tracectl itself handles them.
    `daemonize` (strace's -D, -DD, -DDD): the roles are swapped: this
    process becomes the command (its caller's child, as if run untraced)
    and the tracer side goes on in a grandchild (in a process group of its
    own with 2, a session of its own with 3), which gets the Child."""
    if not argv:
        raise TracerError("must have PROG [ARGS] or -p PID")
    if bpf is not None and (len(bpf) % 8 or not bpf):
        raise TracerError("the seccomp filter is not a whole number of instructions")
    path = resolve(argv[0])
    env = inherited_environ() if env is None else dict(env)
    ffi, lib = _native()
    if bpf is not None:
        fbuf = ffi.from_buffer(bytes(bpf))
    LAUNCH_FDS.clear()
    for fd in (0, 1, 2):
        if fd in CLOSED_AT_START:
            continue
        try:
            LAUNCH_FDS[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass
    cmd_r, cmd_w = os.pipe()
    ack_r, ack_w = os.pipe()
    blocked = tuple(START_MASK or ())
    me = os.getpid()
    pid = os.fork()
    if daemonize and pid == 0:
        # the tracer side: a grandchild, so the command never has a child
        # it did not make (the middle process exits at once)
        if os.fork() != 0:
            os._exit(0)
        if daemonize >= 3:
            os.setsid()
        elif daemonize == 2:
            os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1):  # a pipeline sees EOF when the command closes its ends
            os.dup2(devnull, fd)
        os.close(devnull)
        os.close(cmd_r)
        os.close(ack_w)
        return Child(me, cmd_w, ack_r, daemonized=True)
    if daemonize:
        while True:  # the middle process
            try:
                os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break
    if pid == 0 or daemonize:  # the command's side: never returns
        try:
            os.close(cmd_w)
            os.close(ack_r)
            if cwd is not None:
                os.chdir(cwd)
            while True:
                m = os.read(cmd_r, 1)
                if m == b"T":
                    (tracer,) = struct.unpack("<i", _read_exact(cmd_r, 4))
                    lib.tr_launch_ptracer(tracer)
                    os.write(ack_w, b"t")
                elif m == b"R":
                    break
                else:  # the client went away before releasing us
                    os._exit(1)
            # Python ignores the last two, and -I3/-I4 had tracectl ignore
            # the others: a traced command must not inherit that
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGTSTP, signal.SIGPIPE, signal.SIGXFSZ):
                lib.tr_launch_signal(sig, 0)
            for sig in ignored:
                lib.tr_launch_signal(sig, 1)  # SIG_IGN (the exec would reset our handler to SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            if bpf is not None:
                # without no_new_privs first if we may (root): a setuid
                # command keeps its rights; else with it (launch.c)
                r = lib.tr_launch_filter(fbuf, len(bpf))
                if r < 0:
                    os.write(2, f"tracectl: seccomp: {os.strerror(-r)}\n".encode())
                    os._exit(1)
            if user is not None:
                uid, gid, groups = user
                os.setgroups(list(groups))
                os.setgid(gid)
                os.setuid(uid)
            for fd in CLOSED_AT_START:
                os.close(fd)
            try:
                os.execve(path, list(argv), env)
            except OSError as exc:
                # the tracer prints the failed execve, then (as strace's
                # child does) "exec: ERROR": the client says it in order
                os.write(ack_w, b"E" + struct.pack("<i", exc.errno or 0))
                os._exit(1)
        except OSError as exc:
            try:
                os.write(2, f"tracectl: exec: {os.strerror(exc.errno or 0)}\n".encode())
            except OSError:
                pass
        except BaseException:
            pass
        os._exit(1)
    os.close(cmd_r)
    os.close(ack_w)
    return Child(pid, cmd_w, ack_r)


def _nspids(pid) -> list[bytes]:
    with open(f"/proc/{pid}/status", "rb") as f:
        for line in f:
            if line.startswith(b"NSpid:"):
                return line.split()[1:]
    return []


def _children() -> set[int]:
    """The pids of this process's children (every thread's), zombies
    included (/proc/self/task/TID/children), as our pid namespace numbers
    them: /proc may be an outer namespace's (`unshare -pf` without
    --mount-proc makes us PID 1 and keeps the host's /proc), where our
    level's pid is the one at our depth on each child's NSpid line."""
    out: set[int] = set()
    try:
        tids = os.listdir("/proc/self/task")
        depth = len(_nspids("self")) - 1
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/children", "rb") as f:
                pids = f.read().split()
        except OSError:
            continue
        for p in pids:
            if depth <= 0:
                out.add(int(p))
                continue
            try:
                ns = _nspids(int(p))
                out.add(int(ns[depth]))
            except (OSError, ValueError, IndexError):
                continue  # gone (reaped meanwhile)
    return out


class Reaper:
    """Reaps the children tracectl did not fork itself, as strace's wait loop
    does: a child the command made with CLONE_PARENT, and (tracectl as PID 1
    of a pid namespace, or a subreaper) the orphans reparented to us. Left
    unreaped they stay zombies, and a program waiting for one of them to
    vanish (`while kill -0 $pid`, strace's clone_parent tests) never ends.

    Every child that exists when it is made (a pre-forked worker, --sink
    processes) is ours; `keep()` adds those forked later (the command, a
    spawned worker). `reap()` is safe in a SIGCHLD handler (no output);
    the pids it reaped are in `reaped` until taken."""

    def __init__(self):
        self._keep = _children()
        self.reaped: list[int] = []

    def keep(self, *pids) -> None:
        self._keep.update(p for p in pids if p)

    def strays(self) -> set[int]:
        return _children() - self._keep

    def reap(self) -> None:
        for pid in self.strays():
            try:
                got, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                continue
            if got == pid:
                self.reaped.append(pid)

    def take(self) -> list[int]:
        out, self.reaped = self.reaped, []
        return out

    def wait_all(self) -> None:
        """Wait until no stray child is left (strace exits when wait says
        ECHILD): each stray's pidfd is polled until it exits."""
        import select

        while True:
            self.reap()
            fds = []
            for pid in self.strays():
                try:
                    fds.append(os.pidfd_open(pid))
                except OSError:
                    continue
            if not fds:
                return
            try:
                p = select.poll()
                for fd in fds:
                    p.register(fd, select.POLLIN)
                p.poll(1000)
            finally:
                for fd in fds:
                    os.close(fd)
