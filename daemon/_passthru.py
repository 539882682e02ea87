"""Pass-through processes are never left without a tracer.

A process that got a filter injected (attach --seccomp-bpf) fails every
traced call with ENOSYS once it has no tracer. Its session's worker stays on
as a pass-through tracer until the process exits (docs/daemon.md); this
module covers what happens when that worker goes first:

- the daemon keeps a state file (`passthru.json` in its state directory,
  /run/tracerd by default) listing every pass-through worker, its processes
  and their owner, rewritten whenever that set changes;
- when a pass-through worker dies, the daemon re-attaches its processes (and
  their filtered descendants) with a fresh pass-through tracer
  (tracerd.native, mode "passthru"): a plain seize under the owner's
  credentials, no second injection;
- at start, the daemon re-adopts what the file lists: a worker still alive
  is watched (and replaced when it dies), the processes of a dead one are
  re-attached at once.

Processes are named by (pid, start time), so a reused pid is never seized.
"""

from __future__ import annotations

import json
import logging
import os
import stat

import trio

from . import _auth
from ._auth import Peer
from ._session import read_ready

log = logging.getLogger("tracerd")

STATE_FILE = "passthru.json"
READY_TIMEOUT = 30.0
RETRY_SECONDS = 1.0  # between two rescues of the same processes
MAX_RESCUES = 5  # in a row without a worker that lived RETRY_SECONDS * 10


class Adopted:
    """A pass-through session the daemon watches but did not start (or
    whose first worker died): listed, counted toward its owner's limit,
    refused for watch/detach/stop like every pass-through session."""

    passthru = True
    mode = "attach"
    plan = None
    records = 0  # a pass-through tracer makes no records
    frames = 0

    def __init__(self, daemon, sid: int, owner: Peer, as_owner: bool, procs: list[tuple[int, int]], command: list[str], bpf_filter: str):
        self.daemon = daemon
        self.id = sid
        self.owner = owner
        self.as_owner = as_owner  # the worker takes the owner's credentials
        self.procs = procs  # [(pid, start time)]
        self.command = command
        self.filter = bpf_filter
        self.worker_pid = 0
        self.worker_start: int | None = None
        self.subscribers: list = []
        self.inject = b"x"

    @property
    def pids(self) -> list[int]:
        return [p for p, _ in self.procs]

    def info(self) -> dict:
        return {
            "session": self.id, "uid": self.owner.uid, "mode": self.mode, "state": "pass-through",
            "seccomp_bpf": True, "pids": self.pids, "worker": self.worker_pid, "command": self.command,
            "filter": self.filter, "subscribers": 0, "records": 0, "frames": 0, "rate": 0.0, "dropped": 0,
        }

    # what the daemon calls on every session: nothing to do for these
    def tick(self, dt: float) -> None:
        pass

    def end(self, reason: str) -> None:
        pass

    def kill_worker(self) -> None:
        pass

    def close_ctl(self) -> None:
        pass


def entry_of(s) -> dict:
    """A pass-through session (Session or Adopted) as the state file holds it."""
    procs = getattr(s, "procs", None)
    if procs is None:
        procs = [(p, getattr(s, "pid_starts", {}).get(p) or _auth.start_time(p)) for p in s.pids]
    return {
        "owner": [s.owner.uid, s.owner.gid, list(s.owner.groups)],
        "as_owner": bool(getattr(s, "as_owner", False)),
        "procs": [[p, t] for p, t in procs if t is not None],
        "worker": [s.worker_pid, getattr(s, "worker_start", None) or _auth.start_time(s.worker_pid)],
        "command": list(s.command),
        "filter": s.filter,
    }


class StateFile:
    """passthru.json in the state directory. Read only when the directory
    and the file belong to this daemon's user and nobody else may write
    them: the file names processes to seize and credentials to take."""

    def __init__(self, directory: str | None):
        self.directory = directory
        self.path = os.path.join(directory, STATE_FILE) if directory else None

    def _trusted_dir(self) -> bool:
        try:
            st = os.stat(self.directory)
        except OSError:
            return False
        return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022

    def save(self, entries: list[dict]) -> None:
        if self.path is None or not self._trusted_dir():
            return
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump({"version": 1, "passthru": entries}, f)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("%s: %s", self.path, exc.strerror)

    def load(self) -> list[dict]:
        if self.path is None:
            return []
        if not self._trusted_dir():
            log.warning("%s: not read: the directory is not this daemon's alone", self.directory)
            return []
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.warning("%s: %s", self.path, exc.strerror)
            return []
        with os.fdopen(fd) as f:
            st = os.fstat(f.fileno())
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                log.warning("%s: not read: writable by others or not ours", self.path)
                return []
            try:
                data = json.load(f)
                entries = data["passthru"]
                return [_valid(e) for e in entries]
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("%s: ignored, not a state file (%s)", self.path, exc)
                return []


def _valid(e: dict) -> dict:
    uid, gid, groups = e["owner"]
    procs = [(int(p), int(t)) for p, t in e["procs"]]
    wpid, wstart = e["worker"]
    return {
        "owner": Peer(0, int(uid), int(gid), tuple(int(g) for g in groups)),
        "as_owner": bool(e["as_owner"]),
        "procs": procs,
        "worker": (int(wpid), None if wstart is None else int(wstart)),
        "command": [str(c) for c in e["command"]],
        "filter": str(e["filter"]),
    }


def _alive(pid: int, start: int | None) -> bool:
    return start is not None and _auth.start_time(pid) == start


def _filtered(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return any(line.startswith("Seccomp:") and line.split()[1] == "2" for line in f)
    except OSError:
        return False


def orphans(procs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The processes to re-attach: those listed that still live, and their
    descendants that carry a seccomp filter (inherited from them), none of
    them traced by anyone now."""
    roots = [p for p, t in procs if _alive(p, t)]
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
            ppid = int(data[data.rindex(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo += [c for c in children.get(p, ()) if _filtered(c)]
    out = []
    for p in sorted(seen):
        t = _auth.start_time(p)
        if t is not None and _auth.tracer_of(p) == 0:
            out.append((p, t))
    return out


async def spawn_passthru(daemon, adopted: Adopted):
    """Start a pass-through tracer on adopted.procs; returns its Popen once
    it has seized them, None (logged) if it could not."""
    from tracerd.native import spawn_worker

    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    config = {"mode": "passthru", "pids": adopted.pids, "ready_fd": ready_w}
    config.update(daemon.worker_identity(adopted.owner, adopted.as_owner))
    try:
        proc = spawn_worker(config, pass_fds=(ready_w,))
    except OSError as exc:
        os.close(ready_r)
        log.error("session %d: cannot start a pass-through tracer: %s", adopted.id, exc)
        return None
    finally:
        os.close(ready_w)
    msg = await read_ready(ready_r, READY_TIMEOUT, "it did not answer in time")
    if msg is not None:
        log.error("session %d: pass-through tracer for %s failed: %s", adopted.id, adopted.pids, msg)
        if proc.poll() is None:
            proc.kill()
        await trio.to_thread.run_sync(proc.wait)
        return None
    return proc


wait_exit = _auth.wait_exit


async def keep(daemon, adopted: Adopted, proc=None) -> None:
    """Own `adopted` until its processes are gone: watch its worker (if
    any), re-attach them whenever it dies."""
    rescues = 0
    try:
        while True:
            if adopted.worker_pid:
                started = trio.current_time()
                await wait_exit(adopted.worker_pid, proc)
                if trio.current_time() - started > RETRY_SECONDS * 10:
                    rescues = 0
            procs = orphans(adopted.procs)
            if not procs:
                log.info("session %d: pass-through processes gone", adopted.id)
                return
            if rescues >= MAX_RESCUES:
                log.error("session %d: giving up re-attaching %s after %d tries", adopted.id, [p for p, _ in procs], rescues)
                return
            if rescues:
                await trio.sleep(RETRY_SECONDS)
            rescues += 1
            adopted.procs = procs
            adopted.worker_pid = 0
            log.warning("session %d: re-attaching %s (pass-through, no tracer)", adopted.id, adopted.pids)
            proc = await spawn_passthru(daemon, adopted)
            if proc is None:
                continue
            adopted.worker_pid = proc.pid
            adopted.worker_start = _auth.start_time(proc.pid)
            log.info("session %d: pass-through tracer %d re-attached %s", adopted.id, proc.pid, adopted.pids)
            daemon.passthru_changed()
    finally:
        if not daemon.stopping:
            daemon.sessions.pop(adopted.id, None)
            daemon.passthru_changed()
