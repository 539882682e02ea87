"""--format=perfetto: a Perfetto trace (protobuf TrackEvents) of the records.

Built with the `perfetto` package's trace builder (its streaming variant, so a
long `watch` does not hold the whole trace in memory; it writes the same
`Trace` message, packet by packet). What a record becomes:

- a process track per thread group and a thread track per task, named by the
  command (comm): /proc at first sight while the task is alive, else the name
  inherited from the parent, renamed at each successful execve (the kernel's
  rule: the file name's last component, 15 bytes);
- one slice per syscall, entry to exit (`ts` .. `ts + dur`), named by the
  call, category `syscall`, plus `failed` when it returned an error, with
  debug annotations `args` (the decoded arguments, as strace prints them),
  `return` (as strace prints it), `errno` when it failed, `seq`;
  a call without an exit (entry-only, or its task vanished) is an instant;
- signals, group-stops, execs, exits and kills as instants on the thread;
- fork/vfork/clone as an instant on the parent with a flow that ends at the
  child's first event (Perfetto draws the arrow), or, when the child stopped
  and was written before its parent's fork event came (seccomp mode lets
  it), at a `started` instant on the child.

Timestamps are the records' CLOCK_REALTIME ns (`timestamp_clock_id`
REALTIME) with one ClockSnapshot (REALTIME and BOOTTIME read together) so
Perfetto can place them on its BOOTTIME timeline beside other traces.
"""

from __future__ import annotations

import os
import time

from tracerd._wire import Rec

from ._output import Printer, field, signame

CLOCK_REALTIME, CLOCK_BOOTTIME = 1, 6  # perfetto's BuiltinClocks
SEQ_ID = 1  # our one packet sequence
SEQ_INCREMENTAL_STATE_CLEARED = 1
_PROC_UUID, _THREAD_UUID, _FLOW = 1 << 40, 2 << 40, 3 << 40
COMM_LEN = 15  # TASK_COMM_LEN - 1
_EXECS = frozenset({"execve", "execveat"})
_FORKS = {1: "fork", 2: "vfork", 3: "clone"}


def _comm_of(tid: int) -> str | None:
    try:
        with open(f"/proc/{tid}/comm") as f:
            return f.read().rstrip("\n") or None
    except OSError:
        return None


class PerfettoPrinter(Printer):
    """The Printer's choice of what is shown (-f, -e status=, -P, signal=),
    written as Perfetto TrackEvents instead of text.

    clocks: (realtime_ns, boottime_ns) read together, the recording's when
    replaying; names: {pid: comm} known from the start (attach roots);
    live: /proc may be read for names (False when replaying)."""

    def __init__(self, options, decoder, out, *, clocks=None, names=None, live=True, **kw):
        super().__init__(options, decoder, out, **kw)
        from perfetto.trace_builder.proto_builder import StreamingTraceProtoBuilder

        self._pb = StreamingTraceProtoBuilder(getattr(out, "buffer", out))
        self._live = live
        self._comm: dict[int, str] = dict(names or {})  # tgid -> name
        self._tracks: set[int] = set()  # tids with a descriptor written
        self._procs: set[int] = set()
        self._tgid: dict[int, int] = {}
        self._flow_in: dict[int, int] = {}  # child tid -> flow id its first event ends
        self.slices = 0
        if clocks is None:
            clocks = (time.clock_gettime_ns(time.CLOCK_REALTIME), time.clock_gettime_ns(time.CLOCK_BOOTTIME))
        p = self._pb.create_packet()
        p.trusted_packet_sequence_id = SEQ_ID
        p.sequence_flags = SEQ_INCREMENTAL_STATE_CLEARED
        for cid, ts in ((CLOCK_REALTIME, clocks[0]), (CLOCK_BOOTTIME, clocks[1])):
            c = p.clock_snapshot.clocks.add()
            c.clock_id = cid
            c.timestamp = ts
        p.clock_snapshot.primary_trace_clock = CLOCK_BOOTTIME
        self._pb.write_packet(p)

    # -- tracks -------------------------------------------------------------
    def _name(self, tid: int, tgid: int) -> str:
        name = self._comm.get(tgid)
        if name is None and self._live:
            name = _comm_of(tid)
        return name or f"pid {tgid}"

    def _describe(self, tid: int, tgid: int, force: bool = False) -> None:
        if tid in self._tracks and not force:
            return
        name = self._name(tid, tgid)
        self._comm.setdefault(tgid, name)
        if tgid not in self._procs or force:
            self._procs.add(tgid)
            p = self._pb.create_packet()
            p.trusted_packet_sequence_id = SEQ_ID
            d = p.track_descriptor
            d.uuid = _PROC_UUID + tgid
            d.process.pid = tgid
            d.process.process_name = name
            self._pb.write_packet(p)
        self._tracks.add(tid)
        self._tgid[tid] = tgid
        p = self._pb.create_packet()
        p.trusted_packet_sequence_id = SEQ_ID
        d = p.track_descriptor
        d.uuid = _THREAD_UUID + tid
        d.parent_uuid = _PROC_UUID + tgid
        d.thread.pid = tgid
        d.thread.tid = tid
        d.thread.thread_name = name
        self._pb.write_packet(p)

    def _event(self, tid: int, tgid: int, ts: int, kind: str, name: str, cats=(), notes=(), flow_out: int | None = None):
        self._describe(tid, tgid)
        p = self._pb.create_packet()
        p.trusted_packet_sequence_id = SEQ_ID
        p.timestamp = ts
        p.timestamp_clock_id = CLOCK_REALTIME
        e = p.track_event
        e.type = {"B": e.TYPE_SLICE_BEGIN, "E": e.TYPE_SLICE_END, "I": e.TYPE_INSTANT}[kind]
        e.track_uuid = _THREAD_UUID + tid
        if kind != "E":
            e.name = name
            e.categories.extend(cats)
            for k, v in notes:
                a = e.debug_annotations.add()
                a.name = k
                if isinstance(v, int):
                    a.int_value = v
                else:
                    a.string_value = v
            flow_in = self._flow_in.pop(tid, None)
            if flow_in is not None:
                e.terminating_flow_ids.append(flow_in)
            if flow_out is not None:
                e.flow_ids.append(flow_out)
        self._pb.write_packet(p)

    # -- records ---------------------------------------------------------------
    def _write_machine(self, rec, entry=None, tid=None, etext=None) -> None:
        rtype, ts, tid, tgid = rec[0], rec[2], rec[3], rec[4]
        if rtype == Rec.SYSCALL_ENTRY:
            return  # its slice is written with the exit
        if rtype in (Rec.SYSCALL, Rec.SYSCALL_EXIT):
            self._call(rec, entry)
        elif rtype == Rec.NEWTASK:
            child = field(rec, "child")
            flow = _FLOW + child
            self._flow_in[child] = flow
            self._comm_inherit(child, tgid)
            self._event(tid, tgid, ts, "I", _FORKS.get(field(rec, "how"), "clone"), ("process",), (("child", child),), flow_out=flow)
            if child in self._tracks:
                # the child stopped (and was written) before its parent's
                # fork event came: the flow ends on an instant of its own
                self._event(child, self._tgid[child], ts, "I", "started", ("process",), (("parent", tid),))
        elif rtype == Rec.SIGNAL:
            try:
                text = self.d.signal(rec)
            except Exception:
                text = f"--- {signame(field(rec, 'signo'))} ---"
            self._event(tid, tgid, ts, "I", signame(field(rec, "signo")), ("signal",), (("siginfo", text),))
        elif rtype == Rec.STOPPED:
            self._event(tid, tgid, ts, "I", f"stopped by {signame(field(rec, 'signo'))}", ("signal",))
        elif rtype in (Rec.EXIT, Rec.KILLED) and self.pending.get(tid) is not None:
            self._call(self.pending.pop(tid), None)  # ended inside a call: its entry as an instant
            self._write_machine(rec)
        elif rtype == Rec.EXIT:
            self._event(tid, tgid, ts, "I", f"exited with {field(rec, 'status')}", ("process",), (("status", field(rec, "status")),))
        elif rtype == Rec.KILLED:
            core = " (core dumped)" if field(rec, "core") else ""
            self._event(tid, tgid, ts, "I", f"killed by {signame(field(rec, 'signo'))}{core}", ("process", "signal"))
        elif rtype == Rec.EXEC:
            self._event(tid, tgid, ts, "I", "exec", ("process",))
        elif rtype in (Rec.ATTACH, Rec.DETACH):
            self._event(tid, tgid, ts, "I", "attached" if rtype == Rec.ATTACH else "detached", ("process",))

    def _comm_inherit(self, child: int, tgid: int) -> None:
        # a new process starts with its parent's name (until it execs);
        # a thread's tgid is its parent's, which already has a name
        if child not in self._comm and tgid in self._comm:
            self._comm[child] = self._comm[tgid]

    def _call(self, rec, entry) -> None:
        ts, tid, tgid = rec[2], rec[3], rec[4]
        pers, nr = field(rec, "pers"), field(rec, "nr")
        name = self.name(pers, nr)
        ret, is_error, dur = field(rec, "ret"), field(rec, "is_error"), field(rec, "dur")
        try:
            if rec[0] == Rec.SYSCALL:
                text = self.d.call(rec)
            else:
                text = (self.d.entry(entry) if entry is not None else f"<... {name} resumed>") + self.d.resumed(rec, entry)
        except Exception:
            text = f"{name}(...) = {ret if ret is not None else '?'}"
        head, sep, rtext = text.rpartition(" = ")
        if not sep:
            head, rtext = text, "?"
        args = head[len(name) + 1 :] if head.startswith(name + "(") else head
        if args.endswith(")"):
            args = args[:-1]
        start = entry[2] if entry is not None else ts
        notes = [("args", args), ("return", rtext), ("seq", rec[1])]
        cats = ["syscall"]
        if is_error and ret is not None:
            cats.append("failed")
            import errno as _errno

            notes.append(("errno", _errno.errorcode.get(-ret, str(-ret))))
        if ret is None or dur is None:
            self._event(tid, tgid, start, "I", name, (*cats, "unfinished"), notes)
        else:
            self._event(tid, tgid, start, "B", name, cats, notes)
            self._event(tid, tgid, start + dur, "E", name)
            self.slices += 1
        if name in _EXECS and not is_error and ret is not None:
            self._exec_name(rec, entry, tid, tgid, name)

    def _exec_name(self, rec, entry, tid, tgid, name) -> None:
        """After a successful exec the process is named by its file (the
        last component, 15 bytes), as the kernel names it."""
        comm = self._comm_of_exec(rec if entry is None else entry, 1 if name == "execveat" else 0)
        if comm is None and self._live:
            comm = _comm_of(tid)
        if comm:
            self._comm[tgid] = comm
            self._describe(tid, tgid, force=True)

    @staticmethod
    def _comm_of_exec(rec, arg: int) -> str | None:
        for ph, a, value in field(rec, "mem") or ():
            if ph == 0 and a == arg and isinstance(value, (bytes, bytearray)):
                path = bytes(value).split(b"\0", 1)[0]
                return os.path.basename(path)[:COMM_LEN].decode("utf-8", "replace") or None
        return None

    def finish(self) -> None:
        super().finish()
        out = self._bout_perfetto()
        try:
            out.flush()
        except (OSError, ValueError):
            pass

    def _bout_perfetto(self):
        return getattr(self.main.fp, "buffer", self.main.fp)
