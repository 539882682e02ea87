"""Fork the command to trace, hold it until its tracer has seized it, then let
it install the seccomp filter and exec (docs/architecture.md).

The command is forked here, by tracectl, in both embedded and daemon mode, so
it keeps our namespaces, cgroup, tty, environment and every inherited fd.
The child talks to us over two pipes: commands in (``T`` + pid: name a
ptracer for Yama; ``R``: release), acknowledgements out.

seccomp(2) and prctl(2) have no Python binding, so the child calls them
through ctypes; everything it needs is prepared before the fork.
"""

from __future__ import annotations

import ctypes
import os
import signal
import stat
import struct

from tracerd._errors import TracerError

SYS_seccomp = 317  # x86_64 (asm/unistd_64.h)
SECCOMP_SET_MODE_FILTER = 1  # linux/seccomp.h
PR_SET_NO_NEW_PRIVS = 38  # linux/prctl.h
PR_SET_PTRACER = 0x59616D61  # linux/prctl.h ("Yama")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.signal.restype = ctypes.c_void_p
_libc.signal.argtypes = [ctypes.c_int, ctypes.c_void_p]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


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
        happened or failed (a failing exec prints strace's message in the
        child, which exits with status 1, as under strace)."""
        if self._cmd_w < 0:
            return
        try:
            os.write(self._cmd_w, b"R")
        finally:
            os.close(self._cmd_w)
            self._cmd_w = -1
        # the ack pipe is close-on-exec: EOF means the exec succeeded or
        # the child exited
        while os.read(self._ack_r, 64):
            pass
        os.close(self._ack_r)
        self._ack_r = -1

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


def launch(argv, *, bpf: bytes, env=None, cwd=None, user=None, ignored=(), daemonize: int = 0) -> Child:
    """Fork `argv` and hold it; see Child. `bpf` is the raw sock_filter array.
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
    if len(bpf) % 8 or not bpf:
        raise TracerError("the seccomp filter is not a whole number of instructions")
    path = resolve(argv[0])
    env = dict(os.environ if env is None else env)
    fbuf = ctypes.create_string_buffer(bytes(bpf), len(bpf))
    prog = _SockFprog(len(bpf) // 8, ctypes.cast(fbuf, ctypes.c_void_p))
    cmd_r, cmd_w = os.pipe()
    ack_r, ack_w = os.pipe()
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
                    _libc.prctl(PR_SET_PTRACER, tracer & 0xFFFFFFFF, 0, 0, 0)
                    os.write(ack_w, b"t")
                elif m == b"R":
                    break
                else:  # the client went away before releasing us
                    os._exit(1)
            # Python ignores these; a traced command must not inherit that
            for sig in (signal.SIGPIPE, signal.SIGXFSZ):
                _libc.signal(sig, None)
            for sig in ignored:
                _libc.signal(sig, 1)  # SIG_IGN (the exec would reset our handler to SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, ())
            r = _libc.syscall(ctypes.c_long(SYS_seccomp), ctypes.c_long(SECCOMP_SET_MODE_FILTER), ctypes.c_long(0), ctypes.byref(prog))
            if r < 0 and ctypes.get_errno() == 13:  # EACCES: unprivileged
                _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
                r = _libc.syscall(ctypes.c_long(SYS_seccomp), ctypes.c_long(SECCOMP_SET_MODE_FILTER), ctypes.c_long(0), ctypes.byref(prog))
            if r < 0:
                os.write(2, f"tracectl: seccomp: {os.strerror(ctypes.get_errno())}\n".encode())
                os._exit(1)
            if user is not None:
                uid, gid, groups = user
                os.setgroups(list(groups))
                os.setgid(gid)
                os.setuid(uid)
            os.execve(path, list(argv), env)
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
