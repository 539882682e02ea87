"""Standing rules: the daemon traces matching processes by itself.

    [[rule]]
    name = "ssh-logins"
    exe = "/usr/sbin/sshd"          # and/or comm, uid/user, unit, cgroup
    trace = "-f -e trace=execve,connect -e status=successful"
    sinks = ["central"]              # [[sink]] names (docs/sinks.md)
    mode = "ptrace"                  # or "seccomp-bpf"; default: by CAP_SYS_ADMIN at exec,
                                     # ptrace for processes found running (never injected)
    no_new_privs = false             # seccomp-bpf for processes without CAP_SYS_ADMIN

    [catcher]
    method = "auto"                  # fanotify (6.8+) or proc-connector (after the exec)
    hold_ms = 1000                   # a held exec is allowed after this, traced or not
    filesystems = ["/"]              # marked for rules that do not name an exe
    idle_workers = 2                 # workers kept started for caught execs

Every process a rule catches gets a normal session (owner root, listed by
`tracectl ls`, watchable by whoever may watch root's sessions). Processes
already running when the rules are loaded are attached; new ones are caught
at exec by the catcher process (native/catcher.c), which holds the exec at
its main file's fanotify event until the session's worker has seized it.
"""

from __future__ import annotations

import logging
import os
import pwd
import shlex
import socket
import stat
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field

import msgpack
import trio

from tracerd import TracerdError, UsageError

from . import _auth
from ._auth import Peer

log = logging.getLogger("tracerd")

ROOT = Peer(pid=os.getpid(), uid=0, gid=0, groups=())
CAP_SYS_ADMIN = 21
NOTE = struct.Struct("=IiiiI")  # struct tc_note (native/catcher.h)
ANSWER = struct.Struct("=II")  # struct tc_answer
TC_OP_ALLOW = 1
TC_NOTE_ADMIN = 1
CATCHER_STATS = ("events", "own", "traced", "interp", "matched", "answered", "timeouts", "refused_notes")
MODES = ("ptrace", "seccomp-bpf")
RULE_KEYS = {"name", "exe", "comm", "uid", "user", "unit", "cgroup", "trace", "sinks", "mode", "no_new_privs"}
MATCH_KEYS = ("exe", "comm", "uid", "unit", "cgroup")
SEIZE_POLL = 0.0005  # s between looks at a held process's TracerPid
# the main file is opened before exec takes cred_guard_mutex only since 6.8:
# below, seizing at its event would block until we answered
FANOTIFY_MIN_KERNEL = (6, 8)

_ids = 0


def _next_id() -> int:
    global _ids
    _ids += 1
    return _ids


@dataclass
class Rule:
    name: str
    trace: str
    exe: str = ""
    comm: str = ""
    uid: int = -1
    unit: str = ""
    cgroup: str = ""
    sinks: tuple[str, ...] = ()
    mode: str = ""  # "": by CAP_SYS_ADMIN
    no_new_privs: bool = False
    # compiled
    plan: bytes = b""
    bpf: bytes = b""
    decode: dict = field(default_factory=dict)
    exe_id: tuple[int, int] | None = None
    id: int = field(default_factory=_next_id)

    def key(self) -> tuple:
        """What makes two rules the same across a reload."""
        return (self.name, self.trace, self.exe, self.comm, self.uid, self.unit, self.cgroup, self.sinks, self.mode, self.no_new_privs)

    def exe_only(self) -> bool:
        return bool(self.exe)

    def catcher_rule(self) -> dict:
        return {"id": self.id, "exe": list(self.exe_id) if self.exe_id else None, "uid": self.uid, "comm": self.comm, "cgroup": self.cgroup, "unit": self.unit}


@dataclass
class CatcherConfig:
    method: str = "auto"  # fanotify (6.8+), proc-connector, or auto: fanotify where it works
    hold_ms: int = 1000
    filesystems: tuple[str, ...] = ("/",)
    idle_workers: int = 2


def check_file(path: str) -> None:
    """Rules run with root's rights: their file must be root's alone."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    me = os.geteuid()
    if st.st_uid not in (0, me):
        raise UsageError(f"{path}: refused: the configuration must be owned by root (it is owned by uid {st.st_uid})")
    if st.st_mode & stat.S_IWOTH or (st.st_mode & stat.S_IWGRP and st.st_gid != 0):
        raise UsageError(f"{path}: refused: the configuration must not be writable by others (mode {stat.S_IMODE(st.st_mode):04o})")


def compile_trace(trace: str) -> tuple[bytes, bytes, dict]:
    """`trace` as tracectl attach takes it, through the client's own option
    parser: (fetch plan, seccomp filter, the decode options a sink decodes
    the records with)."""
    import argparse

    from tracerd.bpfgen import build_plan, compile_filter
    from tracerd.client._options import add_strace_options, resolve

    p = argparse.ArgumentParser(prog="trace", add_help=False, exit_on_error=False)
    add_strace_options(p)

    def error(message):
        raise UsageError(message)

    p.error = error
    try:
        args, rest = p.parse_known_args(shlex.split(trace))
    except (ValueError, argparse.ArgumentError) as exc:
        raise UsageError(str(exc)) from None
    if rest:
        raise UsageError(f"unexpected argument '{rest[0]}' (trace takes strace options only)")
    args.command = "attach"
    args.pid_args = ["1"]  # resolve() wants a target (attach checks); the rule's processes are it
    opts = resolve(args)
    # the keys client/sinks' decode_meta() sends for a user's --sink
    decode = {k: getattr(opts.decode, k) for k in ("strsize", "xflag", "yflag", "xstyle") if hasattr(opts.decode, k)}
    from tracerd.client._cmd_run import plan_fds

    fds = plan_fds(opts)  # a rule's -y/-yy/-P: fds named at the stops, as for tracectl
    return (build_plan(opts.trace, strsize=opts.plan_strsize, cpu_time=opts.cpu_time, abbrev=opts.plan_abbrev, fds=fds),
            compile_filter(opts.trace, fds=bool(fds)), decode)


def parse(path: str, data: dict) -> tuple[list[Rule], CatcherConfig]:
    """[[rule]] tables and [catcher]; UsageError (one line naming the file
    and the rule) on anything wrong."""
    rules: list[Rule] = []
    raw = data.get("rule", [])
    if not isinstance(raw, list):
        raise UsageError(f"{path}: rule must be an array of tables ([[rule]])")
    seen = set()
    for i, r in enumerate(raw):
        where = f"{path}: rule {i + 1}"
        if not isinstance(r, dict):
            raise UsageError(f"{where}: not a table")
        name = r.get("name")
        if not isinstance(name, str) or not name:
            raise UsageError(f"{where}: name missing")
        where = f"{path}: rule '{name}'"
        if name in seen:
            raise UsageError(f"{where}: a second rule of that name")
        seen.add(name)
        for k in r:
            if k not in RULE_KEYS:
                raise UsageError(f"{where}: unknown setting {k}")
        for k in ("exe", "comm", "unit", "cgroup", "trace", "mode"):
            if k in r and not isinstance(r[k], str):
                raise UsageError(f"{where}: {k} must be a string")
        if "uid" in r and "user" in r:
            raise UsageError(f"{where}: uid and user both given")
        uid = r.get("uid", -1)
        if "uid" in r and (not isinstance(uid, int) or isinstance(uid, bool) or uid < 0):
            raise UsageError(f"{where}: uid must be a number >= 0")
        if "user" in r:
            try:
                uid = pwd.getpwnam(str(r["user"])).pw_uid
            except KeyError:
                raise UsageError(f"{where}: unknown user '{r['user']}'") from None
        sinks = r.get("sinks", [])
        if not isinstance(sinks, list) or not all(isinstance(s, str) for s in sinks):
            raise UsageError(f"{where}: sinks must be a list of sink names")
        mode = r.get("mode", "")
        if mode and mode not in MODES:
            raise UsageError(f"{where}: mode must be ptrace or seccomp-bpf, not '{mode}'")
        nnp = r.get("no_new_privs", False)
        if not isinstance(nnp, bool):
            raise UsageError(f"{where}: no_new_privs must be true or false")
        rule = Rule(name=name, trace=r.get("trace", ""), exe=r.get("exe", ""), comm=r.get("comm", ""), uid=uid, unit=r.get("unit", ""), cgroup=r.get("cgroup", ""), sinks=tuple(sinks), mode=mode, no_new_privs=nnp)
        if not (rule.exe or rule.comm or rule.uid >= 0 or rule.unit or rule.cgroup):
            raise UsageError(f"{where}: matches nothing (give exe, comm, uid/user, unit or cgroup)")
        if rule.exe:
            if not os.path.isabs(rule.exe):
                raise UsageError(f"{where}: exe must be an absolute path")
            try:
                st = os.stat(rule.exe)
            except OSError as exc:
                raise UsageError(f"{where}: exe {rule.exe}: {exc.strerror}") from None
            rule.exe_id = (st.st_dev, st.st_ino)
        if len(rule.comm.encode()) > 15:
            raise UsageError(f"{where}: comm is at most 15 bytes (the kernel's TASK_COMM_LEN)")
        if rule.cgroup and not rule.cgroup.startswith("/"):
            raise UsageError(f"{where}: cgroup must be a path starting with /")
        if "/" in rule.unit:
            raise UsageError(f"{where}: unit is a unit name (e.g. nginx.service), not a path")
        try:
            rule.plan, rule.bpf, rule.decode = compile_trace(rule.trace)
        except TracerdError as exc:
            raise UsageError(f"{where}: trace: {exc}") from None
        sink_names = {s.get("name") for s in data.get("sink", []) if isinstance(s, dict)}
        for s in rule.sinks:
            if s not in sink_names:
                raise UsageError(f"{where}: no [[sink]] named '{s}'")
        rules.append(rule)
    cc = CatcherConfig()
    c = data.get("catcher", {})
    if not isinstance(c, dict):
        raise UsageError(f"{path}: catcher must be a table")
    for k, v in c.items():
        if k == "hold_ms":
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 60000:
                raise UsageError(f"{path}: catcher.hold_ms must be 1..60000")
            cc.hold_ms = v
        elif k == "method":
            if v not in ("auto", "fanotify", "proc-connector"):
                raise UsageError(f"{path}: catcher.method must be auto, fanotify or proc-connector")
            cc.method = v
        elif k == "idle_workers":
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 64:
                raise UsageError(f"{path}: catcher.idle_workers must be 0..64")
            cc.idle_workers = v
        elif k == "filesystems":
            if not isinstance(v, list) or not all(isinstance(p, str) and os.path.isabs(p) for p in v):
                raise UsageError(f"{path}: catcher.filesystems must be a list of absolute paths")
            cc.filesystems = tuple(v)
        else:
            raise UsageError(f"{path}: unknown setting catcher.{k}")
    return rules, cc


# --- looking at processes -------------------------------------------------------


def _status(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def _cgroup(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            for line in f:
                if line.startswith("0::"):
                    return line[3:].strip()
    except OSError:
        pass
    return ""


def _has_admin(capeff: str) -> bool:
    try:
        return bool(int(capeff, 16) >> CAP_SYS_ADMIN & 1)
    except ValueError:
        return False


def _unit_in(cg: str, unit: str) -> bool:
    return unit in cg.split("/")


def matches(rule: Rule, pid: int, st: dict) -> bool:
    """A running process against a rule (the catcher checks new execs in C)."""
    if rule.exe_id:
        try:
            s = os.stat(f"/proc/{pid}/exe")
        except OSError:
            return False
        if (s.st_dev, s.st_ino) != rule.exe_id:
            return False
    if rule.uid >= 0 and int(st["Uid"].split()[0]) != rule.uid:
        return False
    if rule.comm and st.get("Name") != rule.comm:
        return False
    if rule.cgroup or rule.unit:
        cg = _cgroup(pid)
        if rule.cgroup and not cg.startswith(rule.cgroup):
            return False
        if rule.unit and not _unit_in(cg, rule.unit):
            return False
    return True


def _comm(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
        return argv or ["?"]
    except OSError:
        return ["?"]


def _ancestors() -> set[int]:
    out = set()
    pid = os.getppid()
    while pid > 1 and pid not in out:
        out.add(pid)
        try:
            pid = int(_status(pid).get("PPid", "0"))
        except (OSError, ValueError):
            break
    return out


def kernel_catches_at_exec() -> bool:
    rel = os.uname().release.split("-")[0].split(".")
    try:
        return (int(rel[0]), int(rel[1])) >= FANOTIFY_MIN_KERNEL
    except (ValueError, IndexError):
        return False


# --- the catcher process --------------------------------------------------------


class Catcher:
    """The catcher process (native/_exec_catcher.py) and our end of its socket."""

    def __init__(self, rules: list[Rule], cc: CatcherConfig):
        self.rules = rules
        self.cc = cc
        self.proc: subprocess.Popen | None = None
        self.sock: trio.socket.SocketType | None = None
        self.stats: dict = {}

    def marks(self) -> list[tuple[str, str]]:
        out = []
        if any(not r.exe_only() for r in self.rules):
            out += [(p, "filesystem") for p in self.cc.filesystems]
        seen = set()
        for r in self.rules:
            if r.exe_only() and r.exe_id not in seen:
                seen.add(r.exe_id)
                out.append((r.exe, "inode"))
        return out

    async def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
        cfg = {
            "ctl_fd": theirs.fileno(),
            "ready_fd": ready_w,
            "daemon_pid": os.getpid(),
            "hold_ms": self.cc.hold_ms,
            "rules": [r.catcher_rule() for r in self.rules],
            "marks": self.marks(),
        }
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tracerd.native._exec_catcher"],
                stdin=subprocess.PIPE,
                pass_fds=(theirs.fileno(), ready_w),
                close_fds=True,
                start_new_session=True,  # a signal to the daemon's group is not for it
            )
            self.proc.stdin.write(msgpack.packb(cfg))
            self.proc.stdin.close()
        finally:
            theirs.close()
            os.close(ready_w)
        ours.setblocking(False)
        self.sock = trio.socket.from_stdlib_socket(ours)
        ready = b""
        async with trio.lowlevel.FdStream(ready_r) as rs:
            with trio.move_on_after(30):
                while chunk := await rs.receive_some(4096):
                    ready += chunk
        if ready != b"\0":
            self.close()
            msg = ready[1:].decode(errors="replace") if ready[:1] == b"E" else "the exec catcher exited before it was ready"
            raise TracerdError(msg)
        log.info("exec catcher %d: %d rule(s), marks %s, hold %d ms", self.proc.pid, len(self.rules), ", ".join(f"{p} ({k})" for p, k in self.marks()), self.cc.hold_ms)

    def allow(self, token: int) -> None:
        if self.sock is None:
            return
        try:
            os.write(self.sock.fileno(), ANSWER.pack(TC_OP_ALLOW, token))  # non-blocking; one 8-byte datagram
        except (BlockingIOError, OSError):
            pass  # it allows on its timeout

    def close(self) -> None:
        """EOF: the catcher allows what it holds and exits (the kernel also
        allows whatever a closed fanotify group held)."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None


# --- the manager ------------------------------------------------------------------


@dataclass
class Caught:
    pid: int
    rule: Rule
    mode: str
    session: object | None = None
    refusal: str = ""
    how: str = ""  # "exec" | "running"
    latency_ms: float | None = None
    sinks_note: str = ""  # why the rule's sinks do not get this session's records


class Rules:
    """The daemon's standing rules: load, catch, attach, reload, report."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.rules: list[Rule] = []
        self.cc = CatcherConfig()
        self.catcher: Catcher | None = None
        self.caught: dict[int, Caught] = {}  # pid -> what happened
        self.idle: list = []
        self.nursery: trio.Nursery | None = None
        self.note = ""  # what the daemon says about how execs are caught
        self.procconn: trio.CancelScope | None = None  # the proc connector's reader
        self.procconn_lost = 0  # times the kernel dropped proc connector events
        self.late = 0  # execs caught whose seize came after the hold ended
        self.followers: list[tuple[object, str, str]] = []  # (client, rule name, policy): watch --rule

    # --- lifecycle ---
    async def run(self, rules: list[Rule], cc: CatcherConfig, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            await self.apply(rules, cc)
            task_status.started()
            try:
                await trio.sleep_forever()
            finally:
                if self.catcher is not None:
                    self.catcher.close()
                for w in self.idle:
                    w.close_nowait()
                self.idle.clear()

    async def apply(self, rules: list[Rule], cc: CatcherConfig) -> None:
        """Make `rules` the ones in force: keep the sessions of unchanged
        rules, end those of removed ones, attach what new ones match now,
        and start a catcher for the new set before ending the old one (no
        exec slips between the two)."""
        old = {r.key(): r for r in self.rules}
        new: list[Rule] = []
        for r in rules:
            new.append(old.pop(r.key(), r))  # unchanged: keep the object (its id and sessions)
        removed = list(old.values())
        added = [r for r in new if r not in self.rules]
        self.rules = new
        self.cc = cc
        for r in removed:
            self._end_rule(r)
        await self._restart_catcher()
        self._fill_idle()
        for r in added:
            await self._scan(r)
        if removed or added:
            log.info("rules: %d in force (%d added, %d removed)", len(self.rules), len(added), len(removed))

    async def _restart_catcher(self) -> None:
        old = self.catcher
        self.catcher = None
        if self.procconn is not None:
            self.procconn.cancel()
            self.procconn = None
        self.note = ""
        if self.rules:
            fanotify = self.cc.method == "fanotify" or (self.cc.method == "auto" and kernel_catches_at_exec())
            if not fanotify:
                await self._start_procconn()
            else:
                c = Catcher(self.rules, self.cc)
                try:
                    await c.start()
                except TracerdError as exc:
                    self.note = f"exec catcher: {exc}: new processes are not caught"
                    log.error("rules: %s", self.note)
                else:
                    self.catcher = c
                    self.nursery.start_soon(self._read_notes, c)
                    self.note = ""
        if old is not None:
            old.close()

    # --- the proc connector (below 6.8, or method = "proc-connector") ---
    async def _start_procconn(self) -> None:
        """Below 6.8 the exec's main file opens under cred_guard_mutex: a
        seize at its fanotify event would wait for our own answer. The proc
        connector reports execs after the fact instead: a new process is
        attached a little after its exec, so its first instructions are not
        guaranteed to be traced."""
        from . import _procconn

        why = "method = \"proc-connector\"" if self.cc.method == "proc-connector" else f"kernel {os.uname().release} < 6.8"
        try:
            sock = _procconn.open_listener()
        except OSError as exc:
            self.note = f"{why}: the proc connector cannot be opened ({exc.strerror}): new processes are not caught (attached at start and reload only)"
            log.error("rules: %s", self.note)
            return
        self.note = f"{why}: new processes are caught by the proc connector, after their exec: their first instructions are not guaranteed to be traced"
        log.warning("rules: %s", self.note)
        scope = trio.CancelScope()
        self.procconn = scope
        self.nursery.start_soon(self._read_procconn, sock, scope)

    async def _read_procconn(self, sock, scope: trio.CancelScope) -> None:
        from . import _procconn

        me = os.getpid()
        with scope, sock:
            async for pid in _procconn.exec_events(sock):
                if pid < 0:
                    self.procconn_lost += 1  # the kernel dropped events (ENOBUFS)
                    continue
                if pid in self.caught or pid in self.own_pids():
                    continue
                try:
                    st = _status(pid)
                    if int(st.get("TracerPid", "0")) or int(st.get("PPid", "0")) == me:
                        continue  # followed by its tracer already; a child of ours
                except (OSError, ValueError):
                    continue
                for rule in self.rules:
                    try:
                        if not matches(rule, pid, st):
                            continue
                    except (OSError, ValueError, KeyError):
                        break
                    # caught after its exec: a running process, so the scan's
                    # rule for modes (never injected unless the rule asks)
                    self.nursery.start_soon(self._start_late, rule, pid, _has_admin(st.get("CapEff", "0")))
                    break

    async def _start_late(self, rule: Rule, pid: int, admin: bool) -> None:
        await self._start(rule, pid, admin, _comm(pid), how="exec (after)")

    def _fill_idle(self) -> None:
        from tracerd.native._idle import IdleWorker

        want = self.cc.idle_workers if self.rules and (self.catcher is not None or self.procconn is not None) else 0
        while len(self.idle) > want:
            self.idle.pop().close_nowait()
        while len(self.idle) < want:
            try:
                self.idle.append(IdleWorker())
            except OSError as exc:
                log.warning("rules: could not start an idle worker: %s", exc)
                break

    def _end_rule(self, rule: Rule) -> None:
        for pid, c in list(self.caught.items()):
            if c.rule is rule:
                s = c.session
                if s is not None and not s.passthru and s.end_reason is None:
                    s.end("detached")  # plain: detach; injected: pass-through
                del self.caught[pid]

    def own_pids(self) -> set[int]:
        d = self.daemon
        out = {os.getpid(), *d.worker_pids(), *(w.pid for w in self.idle)}
        if self.catcher is not None and self.catcher.proc is not None:
            out.add(self.catcher.proc.pid)
        return out

    # --- processes running when a rule comes in ---
    async def _scan(self, rule: Rule) -> None:
        # never the daemon's ancestors (its supervisor: PID 1, a shell, a
        # test runner) nor PID 1: a rule such as uid = 0 matches them too
        own = self.own_pids() | _ancestors() | {1}
        me = os.getpid()
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            if pid in own or pid in self.caught:
                continue
            try:
                st = _status(pid)
                if st.get("Tgid") != name or int(st.get("PPid", "0")) in (me, 2) or pid == 2:
                    continue  # a thread, a child of ours, a kernel thread
                if int(st.get("TracerPid", "0")):
                    continue
                if not matches(rule, pid, st):
                    continue
            except (OSError, ValueError, KeyError):
                continue
            await self._start(rule, pid, _has_admin(st.get("CapEff", "0")), _comm(pid), how="running")

    # --- execs caught ---
    async def _read_notes(self, c: Catcher) -> None:
        while c.sock is not None:
            try:
                data = await c.sock.recv(8192)
            except (OSError, trio.ClosedResourceError):
                break
            if not data:
                break
            token, pid, rid, uid, flags = NOTE.unpack_from(data)
            if token == 0:  # the catcher's counters, once a second
                vals = struct.unpack_from(f"={len(CATCHER_STATS)}Q", data, NOTE.size)
                c.stats = dict(zip(CATCHER_STATS, vals))
                continue
            rule = next((r for r in self.rules if r.id == rid), None)
            if rule is None or pid in self.caught:
                c.allow(token)
                continue
            path = data[NOTE.size :].decode("utf-8", "replace")
            self.nursery.start_soon(self._caught, c, token, rule, pid, bool(flags & TC_NOTE_ADMIN), path)
        if c is self.catcher:
            log.error("rules: the exec catcher %s ended; new processes are no longer caught", c.proc.pid if c.proc else "?")
            self.note = "the exec catcher ended: new processes are not caught (reload to restart it)"

    async def _caught(self, c: Catcher, token: int, rule: Rule, pid: int, admin: bool, path: str) -> None:
        t0 = time.monotonic()
        allowed = False

        async def allow_when_seized(caught: Caught, task_status=trio.TASK_STATUS_IGNORED):
            nonlocal allowed
            task_status.started()
            deadline = t0 + c.cc.hold_ms / 1000
            while time.monotonic() < deadline:
                s = caught.session
                if s is not None and s.worker_pid and _auth.tracer_of(pid) == s.worker_pid:
                    break
                await trio.sleep(SEIZE_POLL)
            else:
                self.late += 1
            c.allow(token)
            allowed = True
            caught.latency_ms = (time.monotonic() - t0) * 1000

        caught = self._caught_entry(rule, pid, admin, at_exec=True)
        try:
            async with trio.open_nursery() as n:
                await n.start(allow_when_seized, caught)
                ok = await self._start(rule, pid, admin, [path], how="exec", caught=caught)
                if not ok:
                    n.cancel_scope.cancel()
        finally:
            if not allowed:
                c.allow(token)

    def _caught_entry(self, rule: Rule, pid: int, admin: bool, at_exec: bool = False) -> Caught:
        mode, refusal = self._mode(rule, admin)
        if mode == "seccomp-bpf" and not at_exec and rule.mode != "seccomp-bpf":
            # Found by a scan (start-up or reload) with only the default
            # mode: never injected. The filter cannot be taken back, and a
            # broad rule (uid = 0, a unit, a cgroup) loaded at start would
            # otherwise filter every matching process of the host at once,
            # the daemon's supervisor and the shells it was started from
            # included. Execs caught later get the default; a scan injects
            # only where the rule says mode = "seccomp-bpf" itself.
            mode, refusal = "ptrace", "attached while running: not injected unless the rule sets mode = \"seccomp-bpf\" (the filter is irreversible); traced with ptrace"
        return Caught(pid, rule, mode, refusal=refusal)

    @staticmethod
    def _mode(rule: Rule, admin: bool) -> tuple[str, str]:
        if rule.mode == "ptrace":
            return "ptrace", ""
        if admin or rule.no_new_privs:
            return "seccomp-bpf", ""
        if rule.mode == "seccomp-bpf":
            return "ptrace", "seccomp-bpf refused: the process lacks CAP_SYS_ADMIN and the filter would set no_new_privs on it for good (set no_new_privs = true to allow); traced with ptrace"
        return "ptrace", ""

    async def _start(self, rule: Rule, pid: int, admin: bool, command: list[str], *, how: str, caught: Caught | None = None) -> bool:
        from ._session import Session

        d = self.daemon
        if d.stopping:
            return False
        caught = caught or self._caught_entry(rule, pid, admin)
        caught.how = how
        self.caught[pid] = caught
        s = Session(
            d, d.next_id(), ROOT, "attach", [pid], rule.plan,
            command=command, bpf_filter=f"[rule {rule.name}] {rule.trace}".strip(), drop=True,
            inject=rule.bpf if caught.mode == "seccomp-bpf" else b"",
        )
        s.rule = rule.name
        if self.idle:
            s.spawn = self.idle.pop(0)
            self._fill_idle()
        caught.session = s
        d.sessions[s.id] = s
        # followers (tracectl watch --rule) subscribe before the worker
        # starts: they miss nothing of the new session
        self.followers = [f for f in self.followers if not f[0].closed]
        for client, name, policy in self.followers:
            if name == rule.name and client._may_see(s):
                client._subscribe(s, policy, False)
        caught.sinks_note = self._connect_sinks(rule, s, command)
        try:
            await d.nursery.start(self._run_session, s)
        except TracerdError as exc:
            d.sessions.pop(s.id, None)
            caught.session = None
            caught.refusal = str(exc)
            log.warning("rule %s: pid %d: %s", rule.name, pid, exc)
            return False
        log.info("rule %s: pid %d (%s) traced by session %d, %s%s", rule.name, pid, command[0], s.id, caught.mode, f" ({caught.refusal})" if caught.refusal else "")
        return True

    # ---- SINKS HOOK ---------------------------------------------------------------
    # The one place where a rule's records reach its [[sink]]s: each caught
    # session is subscribed to the rule's named sink processes
    # (daemon/_sinkfeed.py's DaemonSinks, as daemon.sinks) here, before its
    # worker starts, so the sinks get every record from the first. A sink
    # that cannot take it is said in one line (`tracectl rules`' sinks_note);
    # the rule still traces and its watchers get the records.
    def _connect_sinks(self, rule: Rule, s, command: list[str]) -> str:
        if not rule.sinks:
            return ""
        try:
            self.daemon.sinks.attach_named(s, list(rule.sinks), rule=rule.name, meta={"command": command, "decode": rule.decode})
        except Exception as exc:  # SinkRefused (daemon/_sinkfeed.py): one line
            log.warning("rule %s: session %d: sinks: %s", rule.name, s.id, exc)
            return f"sinks: {exc}"
        return ""

    async def _run_session(self, s, task_status=trio.TASK_STATUS_IGNORED) -> None:
        try:
            await s.run(task_status=task_status)
        finally:
            c = self.caught.get(s.pids[0])
            if c is not None and c.session is s:
                del self.caught[s.pids[0]]

    def follow(self, client, name: str, policy: str) -> dict:
        """tracectl watch --rule NAME: the client is subscribed to each of
        the rule's sessions, those now and every new one."""
        from tracerd import PermissionRefused

        p = client.peer
        if not (p.is_root or set(p.groups + (p.gid,)) & self.daemon.config.watch_any):
            raise PermissionRefused(f"not permitted to watch rule '{name}' (its sessions are root's)")
        self.followers.append((client, name, policy))
        now = []
        for c in self.caught.values():
            s = c.session
            if c.rule.name == name and s is not None and not s.passthru and s.id not in client.subs and s.id in self.daemon.sessions:
                client._subscribe(s, policy, False)
                now.append(s.id)
        return {"rule": name, "sessions": now, "mode": "attach", "pids": [], "command": [], "filter": ""}

    # --- tracectl rules ---
    def info(self) -> dict:
        for pid, c in list(self.caught.items()):  # refusals of processes gone
            if c.session is None and not os.path.exists(f"/proc/{pid}"):
                del self.caught[pid]
        out = []
        for r in self.rules:
            procs = []
            rate = 0.0
            records = 0
            lost = 0
            for c in self.caught.values():
                if c.rule is not r:
                    continue
                s = c.session
                i = s.info() if s is not None else {}
                rate += i.get("rate", 0.0)
                records += i.get("records", 0)
                lost += i.get("dropped", 0)
                procs.append({"pid": c.pid, "session": i.get("session"), "mode": c.mode, "how": c.how, "state": i.get("state", "refused"), "refusal": c.refusal, "command": i.get("command", []), "latency_ms": None if c.latency_ms is None else round(c.latency_ms, 2), "sinks_note": c.sinks_note})
            match = {k: getattr(r, k) for k in MATCH_KEYS if getattr(r, k) not in ("", -1)}
            # per sink: its lag, spool and losses (a [[sink]] is one process,
            # shared by the rules that name it: the figures are the sink's)
            sink_stats = {n: self.daemon.sinks.named_stats(n) for n in r.sinks}
            out.append({"name": r.name, "match": match, "trace": r.trace, "mode": r.mode or "auto", "sinks": list(r.sinks), "sink_stats": sink_stats, "processes": procs, "rate": round(rate, 1), "records": records, "lost": lost})
        cat = self.catcher
        return {
            "rules": out,
            "catcher": {"method": "fanotify" if cat else "proc-connector" if self.procconn else None, "procconn_overflows": self.procconn_lost, "pid": cat.proc.pid if cat and cat.proc else None, "hold_ms": self.cc.hold_ms, "marks": [list(m) for m in cat.marks()] if cat else [], "idle_workers": len(self.idle), "late": self.late, **(cat.stats if cat else {})},
            "note": self.note,
        }


# --- the daemon's side: start and SIGHUP ---------------------------------------------


async def serve(daemon, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    """Runs in the daemon's nursery: the rules of its config in force, then
    a reload on each SIGHUP (`systemctl reload tracerd`). A config that does
    not load is refused in one line and the old one stays in force."""
    import signal

    from . import _config

    daemon.rules = Rules(daemon)
    with trio.open_signal_receiver(signal.SIGHUP) as hups:
        async with trio.open_nursery() as nursery:
            await nursery.start(daemon.rules.run, daemon.config.rules, daemon.config.catcher or CatcherConfig())
            task_status.started()
            async for _ in hups:
                path = daemon.config.path
                if path is None:
                    log.warning("SIGHUP: no --config file to re-read")
                    continue
                try:
                    new = _config.load(path)
                except TracerdError as exc:
                    log.error("SIGHUP: configuration refused, the old one stays in force: %s", exc)
                    continue
                daemon.config = new
                await daemon.sinks.reload(new)  # before the rules: new rules may name new sinks
                await daemon.rules.apply(new.rules, new.catcher or CatcherConfig())
                log.info("SIGHUP: %s reloaded: %d rule(s) in force", path, len(new.rules))
