"""Records -> events: what every transport formats from.

An event is a flat dict (msgpack-able, so the spool holds it as is): the
session key and seq, the tracee's ids, the strace line (`line`, decoded by
tracerd.client.decode as tracectl decodes it, without the `[pid N]` prefix:
the pid travels in its own field), the MSGID word, whether the call failed,
and `json`, the --format=jsonl object plus host, session and rule (file: and
nats:// send that).
"""

from __future__ import annotations

import os
import socket

from tracerd._wire import Rec, field

from .._calls import OpenCalls
from .._jsonl import to_dict
from .._layout import UNFINISHED, align, exited_text, killed_text, resumed_lead, signame, split_text, stopped_text

_MSGID = {
    Rec.SIGNAL: "signal", Rec.STOPPED: "signal", Rec.EXIT: "exit", Rec.KILLED: "exit", Rec.LOST: "lost",
    Rec.ERROR: "error", Rec.EXEC: "exec", Rec.NEWTASK: "newtask", Rec.ATTACH: "attach", Rec.DETACH: "detach",
}
_CALLS = (Rec.SYSCALL, Rec.SYSCALL_ENTRY, Rec.SYSCALL_EXIT)
HOST = socket.gethostname()


ACOLUMN = 40  # strace's -a default: where tracectl aligns " = "


def _align(text: str, col: int = 0) -> str:
    """`head = ret` laid out as tracectl prints it (the return at column 40)."""
    head, ret = split_text(text)
    return text if ret is None else align(head, ret, col, ACOLUMN)


def _decode_options(d: dict | None):
    from tracerd.client.decode import DecodeOptions

    d = d or {}
    kw = {k: d[k] for k in ("strsize", "xflag", "yflag", "xstyle") if k in d}
    return DecodeOptions(**kw)


class SessionFormatter:
    """One session's records -> events (keeps the entries of unfinished calls
    and each process's comm/exe)."""

    def __init__(self, key: str, meta: dict | None = None, host: str = HOST):
        from tracerd.client.decode import Decoder

        meta = meta or {}
        self.key = key
        self.host = host
        self.rule = meta.get("rule", "") or ""
        self.uid = meta.get("uid")
        self.decoder = Decoder(_decode_options(meta.get("decode")))
        self.calls = OpenCalls()  # entries awaiting their exits
        self.procs: dict[int, tuple[str, str]] = {}  # tgid -> (comm, exe)
        # a session of a client in a pid namespace below the daemon's: its
        # records number tasks as that namespace does ([level on /proc's
        # NSpid lines, st_dev, st_ino] of it; docs/daemon.md)
        ns = meta.get("pidns")
        self.pidns = tuple(ns) if ns else None
        self._proc_ids: dict[int, int] = {}  # their number -> /proc's

    def _proc_id(self, tid: int) -> int:
        """The records' `tid` as /proc numbers it: itself, or for a session
        numbered by a namespace below ours the process with that id at its
        level, in that namespace (-1: none)."""
        if self.pidns is None or tid <= 0:
            return tid
        got = self._proc_ids.get(tid)
        if got is None:
            if len(self._proc_ids) > 4096:
                self._proc_ids.clear()
            got = self._proc_ids[tid] = _find_in_pidns(tid, *self.pidns)
        return got

    def _proc(self, tgid: int, fresh: bool = False) -> tuple[str, str]:
        got = None if fresh else self.procs.get(tgid)
        if got is None:
            comm = exe = ""
            p = self._proc_id(tgid)
            if p > 0:
                try:
                    with open(f"/proc/{p}/comm") as f:
                        comm = f.read().strip()
                    exe = os.readlink(f"/proc/{p}/exe")
                except OSError:
                    pass
            if len(self.procs) > 4096:
                self.procs.clear()
            got = self.procs[tgid] = (comm, exe)
        return got

    def _uid(self, tgid: int):
        if self.uid is not None:
            return self.uid
        try:
            return os.stat(f"/proc/{self._proc_id(tgid)}").st_uid
        except OSError:
            return None

    def _name(self, rec) -> str:
        try:
            return self.decoder.name(field(rec, "pers"), field(rec, "nr"))
        except Exception:
            return f"syscall_{field(rec, 'nr')}"

    def event(self, rec: list) -> dict:
        rtype = Rec(rec[0])
        seq, ts, tid, tgid = rec[1], rec[2], rec[3], rec[4]
        entry = etext = None
        if rtype == Rec.SYSCALL_ENTRY:
            self.calls.enter(tid, rec)
        elif rtype == Rec.SYSCALL_EXIT:
            entry, etext = self.calls.leave(tid)
        if self.pidns is not None:
            from tracerd.client.decode import _core

            _core.proc_translate = self._proc_id  # the decoder's /proc lookups (-y)
            try:
                j = to_dict(rec, self.decoder, entry, etext)
            finally:
                _core.proc_translate = None
        else:
            j = to_dict(rec, self.decoder, entry, etext)
        if rtype == Rec.SYSCALL_ENTRY and j.get("text") is not None:
            self.calls.printed(tid, j["text"])  # its exit's args reuse it
        err = False
        if rtype in _CALLS:
            msgid = j.get("syscall") or self._name(rec)
            text = j.get("text")
            if text is None:
                text = f"{msgid}(...)"
            if rtype == Rec.SYSCALL_ENTRY:
                line = text + UNFINISHED
            elif rtype == Rec.SYSCALL_EXIT:
                lead = resumed_lead(msgid)
                line = lead + _align(text, len(lead))
            else:
                line = _align(text)
            err = bool(j.get("is_error"))
        else:
            msgid = _MSGID.get(rtype, rtype.name.lower())
            line = self._lifecycle_line(rtype, rec, j)
        if rtype in (Rec.EXIT, Rec.KILLED):
            self.calls.leave(tid)
        comm, exe = self._proc(tgid, fresh=rtype == Rec.EXEC)
        j["host"] = self.host
        j["session"] = self.key
        j["rule"] = self.rule
        ev = {
            "session": self.key, "seq": seq, "host": self.host, "rule": self.rule, "ts": ts, "tid": tid, "pid": tgid,
            "uid": self._uid(tgid) if tgid else self.uid, "comm": comm, "exe": exe, "msgid": msgid, "line": line,
            "err": err, "type": j["type"], "json": j,
        }
        if rtype == Rec.LOST:
            n = field(rec, "count") or 0
            ev["lost"] = [n, seq, seq + n - 1]
        return ev

    def _lifecycle_line(self, rtype, rec, j) -> str:
        tid = rec[3]
        if rtype == Rec.SIGNAL:
            return j.get("text") or f"--- {signame(field(rec, 'signo'))} ---"
        if rtype == Rec.EXIT:
            return exited_text(field(rec, "status"))
        if rtype == Rec.KILLED:
            return killed_text(field(rec, "signo"), field(rec, "core"))
        if rtype == Rec.STOPPED:
            return stopped_text(field(rec, "signo"))
        if rtype == Rec.LOST:
            n = field(rec, "count") or 0
            return f"--- {n} records lost (seq {rec[1]}..{rec[1] + n - 1}) ---"
        if rtype == Rec.ERROR:
            return field(rec, "message") or os.strerror(field(rec, "errno") or 0)
        if rtype == Rec.NEWTASK:
            return f"Process {field(rec, 'child')} attached"
        if rtype == Rec.ATTACH:
            return f"Process {tid} attached"
        if rtype == Rec.DETACH:
            return f"Process {tid} detached"
        if rtype == Rec.EXEC:
            old = field(rec, "old_tid")
            return f"+++ execve in pid {tid} +++" if old in (None, tid) else f"+++ superseded by execve in pid {tid} +++"
        return rtype.name.lower()


_NS_GET_PARENT = 0xB702  # linux/nsfs.h: _IO(0xb7, 0x2)


def _find_in_pidns(pid: int, at: int, dev: int, ino: int) -> int:
    """/proc's number of the process whose id at level `at` of /proc's
    NSpid lines is `pid` and whose pid namespace at that level is (dev,
    ino); -1 when there is none (a scan of /proc, thread-group leaders)."""
    import fcntl

    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as f:
                ids = next((line.split()[1:] for line in f if line.startswith(b"NSpid:")), [])
            if len(ids) <= at or int(ids[at]) != pid:
                continue
            fd = os.open(f"/proc/{name}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        except (OSError, ValueError):
            continue
        try:
            for _ in range(len(ids) - 1 - at):
                parent = fcntl.ioctl(fd, _NS_GET_PARENT)
                os.close(fd)
                fd = parent
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) == (dev, ino):
                return int(name)
        except OSError:
            continue
        finally:
            os.close(fd)
    return -1


def lost_event(key: str, host: str, rule: str, count: int, first: int, last: int, ts: int) -> dict:
    """The `lost` message the core writes for what a policy dropped (the
    seq range of one session, or of several: `first`/`last` are that
    session's)."""
    line = f"--- {count} records lost (seq {first}..{last}) ---"
    j = {"type": "lost", "seq": first, "ts": ts, "tid": 0, "tgid": 0, "count": count, "last": last,
         "host": host, "session": key, "rule": rule}
    return {"session": key, "seq": first, "host": host, "rule": rule, "ts": ts, "tid": 0, "pid": 0, "uid": None,
            "comm": "", "exe": "", "msgid": "lost", "line": line, "err": False, "type": "lost", "json": j,
            "lost": [count, first, last]}
