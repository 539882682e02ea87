"""Records -> what strace prints (or JSON lines, or raw msgpack): the
record sequencing.

`Printer(options, decoder, out).feed(rec)` for every record, `.finish()` at
the end. It decides what strace's printing loop decides around a decoded
call: which tasks are shown (without -f only the traced processes
themselves, as strace), which calls (-z/-Z/status=, -P: an entry's line is
held until its exit decides), which stream a line goes to (one file per
task with -ff), lines left open after a call's entry and closed with
` <unfinished ...>` when another line interleaves (`<... NAME resumed>`
later), `+++ exited with N +++`, `+++ killed by SIGX +++`, `--- SIGX {...}
---`, `--- stopped by SIGX ---`, signal=, quiet=, notes, and the -c/-C
summary. Entries awaiting their exits, with the text each printed, are in
`OpenCalls` (client/_calls.py). How each line is laid out (pid prefixes,
-t/-tt/-ttt/-r times, -T durations, the column-40 alignment of `= ret`) is
`Layout`'s (client/_layout.py). Text of the calls themselves comes from the
decoder (tracerd.client.decode) as (head, return) pairs.
"""

from __future__ import annotations

import errno as _errno
import functools
import os
import sys

import msgpack

from tracerd._wire import FIELDS, IDX, Pers, Rec, SysFlag, ext, record

from .decode import tamper_marks
from ._calls import OpenCalls
from ._dumps import dump_text
from ._layout import Layout, Stream, exited_text, fmt_secs as _fmt_secs, killed_text, resumed_lead, signame, split_text, stopped_text, vanished_tail
from ._outfile import OutFile
from ._text import printable
from ._summary import Summary

NOTE_PREFIX = "tracectl: "

# (exit_group, exit) by personality: x86_64, i386, x32
_EXIT_NRS = {0: (231, 60), 1: (252, 1), 2: (0x40000000 | 231, 0x40000000 | 60)}
_S_PERS, _S_NR, _S_RET, _S_ERR, _S_FLAGS = (IDX[Rec.SYSCALL][n] for n in ("pers", "nr", "ret", "is_error", "flags"))
_S_DUR, _S_CPU = IDX[Rec.SYSCALL]["dur"], IDX[Rec.SYSCALL]["cpu"]
_S_LEN = len(FIELDS[Rec.SYSCALL])  # a longer record carries the ext map
_X_PERS, _X_NR, _X_RET, _X_ERR, _X_FLAGS, _X_DUR = (IDX[Rec.SYSCALL_EXIT][n] for n in ("pers", "nr", "ret", "is_error", "flags", "dur"))
_X_LEN = len(FIELDS[Rec.SYSCALL_EXIT])

# Field positions by plain int record type: tracerd._wire.field() builds a
# Rec enum per call, which costs as much as the rest of -c's work per record.
_IDX = {int(t): idx for t, idx in IDX.items()}


def field(rec: list, name: str):
    i = _IDX[rec[0]][name]
    return rec[i] if i < len(rec) else None


# one output file and its current line (client/_layout.py)
_Stream = Stream


class Printer:
    """Turns records into strace's output on `out` (a text stream).

    options: a RunOptions (client/_options.py); decoder: a
    tracerd.client.decode.Decoder; out: where trace lines go unless -o named a
    file (then `out` is that file, opened by the caller; -ff files are opened
    here). notes: where "Process N attached" and errors go (stderr).
    roots: the tids traced from the start (launched child, attached pids):
    without -f only they are shown; None shows every task.
    launched: the records start with a command tracectl forked (run): its
    calls before the exec succeeds are the launcher's and stay hidden.
    batch: lines are collected and written when `flush()` ends a frame (the
    caller must call it per frame; notes still come out in order).
    """

    def __init__(self, options, decoder, out, *, notes=None, roots=None, launched=False, name_of=None, batch=False):
        self.o = options
        self.d = decoder
        self.notes = notes if notes is not None else sys.stderr
        self.roots = set(roots) if roots is not None else None
        self.fmt = options.fmt
        self.show_trace = options.summary != 1
        self.summary = Summary(sortby=options.sortby, columns=options.columns, overhead_ns=options.overhead_ns) if options.summary else None
        self.per_pid = options.follow >= 2 and options.output is not None and self.fmt in ("strace", "jsonl")
        self.to_file = options.output is not None
        self._batch = batch
        self.main = Stream(out, batch)
        self.files: dict[int, Stream] = {}
        self.live: set[int] = set(self.roots or ())
        self.dead: set[int] = set()
        self._early: set[int] = set()  # tids seen before their parent's fork event
        self.calls = OpenCalls()  # entries awaiting their exits, with what each printed
        self.pending = self.calls.recs  # tid -> SYSCALL_ENTRY record awaiting its exit
        # strace: with -o FILE, pids prefix every line with -f or when more
        # than one process is traced from the start.
        self.file_pid_prefix = self.to_file and not self.per_pid and (options.follow == 1 or len(self.roots or ()) > 1)
        self.layout = Layout(options, per_pid=self.per_pid, file_pid_prefix=self.file_pid_prefix, to_file=self.to_file)
        self._layout_call = self.layout.call_line
        self.status_filter = frozenset(options.status)
        self.paths = tuple(options.paths)
        self.lost = 0
        self.errors: list[str] = []  # the tracer's error messages, as noted
        self.dumps = bool(options.read_fds) or bool(options.write_fds)
        # run: until the command's exec succeeds, only execve itself shows (a
        # failed exec's error message and exit are the launcher's, hidden as
        # strace hides its own child's)
        self.pre_exec = launched
        self._observe = getattr(decoder, "observe", None)
        self._skip_exit: set[int] = set()  # tids whose hidden subcall's exit is still to come
        self._attached: dict[int, int] = {}  # tgid -> threads seized, note not yet printed
        self._name_of = name_of
        # the per-record paths test these once here, not option by option
        self._all_visible = options.follow > 0 or self.roots is None
        self._strace = self.fmt == "strace"
        self._plain = not (self.status_filter or self.paths or self.summary is not None or options.pidns or self.dumps)
        self._iflag = self.layout.iflag  # -i: [instruction pointer] on every line
        self._ips: dict[int, int] = {}  # tid -> its last call's ip (for `<... resumed>` lines)
        self._stack = getattr(options, "stack", False)  # -k: frames after each call's line
        self._after = self._stack or self.dumps  # lines after a call's (-k frames, read=/write= dumps)
        self._late_stack: dict[int, list] = {}  # -k: tid -> its exit's record, frames printed when it is gone
        # the decoder gives a call as (head, return): no search of its text
        # for the ` = ` to align (a subclass that changed call() alone: its text, cut)
        split = getattr(decoder, "split_calls", lambda: False)()
        self._split = decoder.call_split if split else None
        self._resumed_split = getattr(decoder, "resumed_split", None) if split else None
        self._comm = self.layout.comm  # -Y: prefixes as N<comm>
        # -b execve: tasks "detached" at an execve (and their children): not shown
        self._detached: set | None = set() if getattr(options, "detach_execve", False) else None
        self._exec_skip = set(self.roots or ()) if launched else set()  # run: the command's own execve stays
        # -b execve with execve not traced (-e trace=none): the exec event
        # alone tells where the process is let go
        self._exec_unseen = self._detached is not None and not any(
            self.name(p, n) in _EXECS for p, n in getattr(options, "trace", ()))
        self.detached_roots: set[int] = set()  # -b execve: roots let go (strace ends 0, not with their status)
        self._exec_line: set[int] = set()  # -b execve: tasks let go whose execve's line is still to print
        # run ended by a signal: strace passes the signal to its command and
        # detaches. release_ts: when we did (realtime ns, as records' ts);
        # what the tracer still reports from then on shows as that detach (a
        # call under way ends ` <detached ...>`, nothing after it)
        self.release_ts: int | None = None
        self._released: set[int] = set()
        # a SYSCALL record on these options goes straight to _syscall (feed)
        # (feed's general path adds nothing for it on these options)
        self._fast = self._strace and self._detached is None and not self._iflag
        self._pidns = bool(options.pidns)  # --pidns-translation
        if options.pidns and self._strace:
            from .decode._pidns import PidTranslator

            decoder.pidns = PidTranslator()
        # strace's `[ Process PID=N runs in 32 bit mode. ]`: each task's
        # personality (children inherit it), and the notes an exec set off,
        # printed after that execve's line
        self._pers: dict[int, int] = {}
        self._pers_note: dict[int, tuple] = {}
        self._pers_shown = self._strace and options.summary != 1 and "personality" not in options.quiet
        if self.fmt == "msgpack":
            self._packer = msgpack.Packer()
            self._bout = getattr(out, "buffer", out)

    # -- which tasks and calls are shown ------------------------------------
    def _visible(self, tid: int) -> bool:
        return self._all_visible or tid in self.roots

    def _signal_shown(self, signo: int) -> bool:
        s = self.o.signals
        return s is None or signo in s

    def _status_of(self, rec, ret, is_error, flags) -> str:
        if flags & (SysFlag.VANISHED | SysFlag.NO_EXIT):
            # the task went away inside the call, or the call never returns
            # (exit_group): strace's `= ?` lines of status=unfinished
            return "unfinished"
        if ret is None:
            return "unavailable"
        return "failed" if is_error else "successful"

    def _status_shown(self, status: str) -> bool:
        return not self.status_filter or status in self.status_filter

    def _path_shown(self, rec) -> bool:
        if not self.paths:
            return True
        try:
            touched = self.d.paths_of(rec)
        except Exception:
            return False
        return any(p in self.paths for p in touched)

    # -- names -----------------------------------------------------------------
    def name(self, pers: int, nr: int) -> str:
        try:
            return self.d.name(pers, nr)
        except Exception:
            return f"syscall_{nr:#x}"

    # -- line plumbing ---------------------------------------------------------
    def _stream(self, tid: int) -> Stream:
        if not self.per_pid:
            return self.main
        st = self.files.get(tid)
        if st is None:
            path = f"{self.o.output}.{tid}"
            fp = OutFile.open(path, "a" if self.o.append else "w", self.notes)  # write errors reported, not raised
            st = self.files[tid] = Stream(fp, self._batch)
        return st

    def _begin(self, tid: int, ts, nr=None) -> Stream:
        """Start a new line for `tid`; close another task's open line first."""
        st = self._stream(tid)
        st.close_open()
        lead = self.layout.lead(tid, ts, nr, len(self.live) > 1)
        st.write(lead)
        st.col = len(lead)
        return st

    def _line(self, tid: int, ts, text: str) -> None:
        st = self._begin(tid, ts)
        st.write(text + "\n")
        st.col = 0

    def note(self, msg: str) -> None:
        main = self.main
        if main.fp is self.notes:
            # a note never lands inside an open line: strace closes the line
            # as another task's output would, and the exit prints "resumed"
            main.close_open()
        main.drain()  # notes and lines may share stderr: keep their order
        self.notes.write(NOTE_PREFIX + msg + "\n")
        self.notes.flush()

    # -- records -----------------------------------------------------------------
    def feed(self, rec: list) -> None:
        if self.release_ts is not None and self._after_release(rec):
            return
        if self._pers_note:
            return self._feed_after_exec(rec)
        tid = rec[3]
        if self._pidns and tid > 0 and self.d.pidns is not None:
            self.d.pidns.seen(rec)
            if rec[0] == _NEWTASK:
                self.d.pidns.newtask(tid, field(rec, "child"))
        if rec[0] == _SYSCALL and self._fast and not self.pre_exec and not self._attached and (self._all_visible or tid in self.roots):
            # the common record on the common options: none of the general
            # path's tests below applies to it
            if tid not in self.live and tid not in self.dead:
                self._first_sight(tid)
            self._syscall(rec, tid)
            return
        rtype = rec[0]
        if rtype != _SYSCALL:  # the common record skips the rare kinds' tests
            if rtype == _LOST:
                n = field(rec, "count")
                self.lost += n
                if not self._strace:  # a record of the stream too (docs/jsonl.md)
                    self._write_machine(rec)
                self.note(f"{n} records lost")
                return
            if rtype == _ERROR:
                if not self._strace:
                    self._write_machine(rec)
                msg = printable(field(rec, "message") or os.strerror(field(rec, "errno") or 0))
                self.errors.append(msg)  # the caller need not repeat it
                self.note(msg)
                return
            if rtype == _NEWTASK:
                child = field(rec, "child")
                if tid in self._pers:
                    self._pers[child] = self._pers[tid]
                if self._detached is not None and tid in self._detached:
                    self._detached.add(child)  # -b execve: a detached process's children are not shown either
                    return
                if child not in self._early:
                    self.dead.discard(child)  # a reused id
                if child in self._early:
                    # the child's own records came before its parent's fork
                    # event: _first_sight announced it (it may be gone already)
                    self._early.discard(child)
                elif self._visible(child) or (self.o.follow and self._visible(tid)):
                    self.live.add(child)
                    if self.o.follow and "attach" not in self.o.quiet:
                        self.note(f"Process {child} attached")
                self._emit_raw(rec, tid)
                return
            if self._attached and rtype != _ATTACH:
                self._flush_attached()
        elif self._attached:
            self._flush_attached()
        if not (self._all_visible or tid in self.roots):
            if rtype == _SYSCALL:
                self._unseen(rec)
            return
        if rtype == _ATTACH:
            self.live.add(tid)  # a thread seized at attach: counted by _attach ("with N threads"), not announced alone
        elif tid not in self.live and tid not in self.dead:
            self._first_sight(tid)
        if self._detached is not None and self._detach_on_exec(rtype, rec, tid):
            return
        if self._iflag:
            self._note_ip(rtype, rec, tid)
        if not self._strace:
            self._feed_machine(rtype, rec, tid)
            return
        if self.pre_exec:
            if rtype == _EXEC:
                self.pre_exec = False
            elif rtype in _CALL_RECORDS and self.name(field(rec, "pers"), field(rec, "nr")) not in _EXECS:
                if rtype == _SYSCALL:
                    self._unseen(rec)
                return
        if rtype == _SYSCALL:
            self._syscall(rec, tid)
            return
        handler = _HANDLERS.get(rtype)
        if handler is not None:
            handler(self, rec, tid)

    # -- personality ------------------------------------------------------------
    def _feed_after_exec(self, rec) -> None:
        """An exec changed a task's personality: its note follows that
        execve's line (strace prints it at the execve's exit), or comes
        before whatever record comes first if the execve is not shown."""
        pending, self._pers_note = self._pers_note, {}
        rtype = rec[0]
        ours = rtype in _CALL_RECORDS and rec[3] in pending and self.name(field(rec, "pers"), field(rec, "nr")) in _EXECS
        if ours and rtype == _SYSCALL_ENTRY:
            # the execve's entry, split after the exec event (it blocked
            # past the flush interval): the note waits for its exit
            self.feed(rec)
            self._pers_note.update(pending)
            return
        if not ours:
            self._pers_lines(pending)
        self.feed(rec)
        if ours:
            self._pers_lines(pending)

    def _pers_lines(self, pending) -> None:
        for tid, (pers, ts) in pending.items():
            self._line(tid, ts, f"[ Process PID={tid} runs in {_PERS_NAMES.get(pers, pers)} mode. ]")

    def _pers_seen(self, tid, pers, ts) -> None:
        """A call in another personality than the task was known in (an
        attached 32-bit process): the note, before the call."""
        if self._pers.get(tid, 0) != pers:
            self._pers[tid] = pers
            if self._pers_shown:
                self._pers_lines({tid: (pers, ts)})
    def _detach_on_exec(self, rtype, rec, tid) -> bool:
        """-b execve: True when the record is not shown: its task was
        detached at an exec, or it is that execve (printed as strace
        prints it: its arguments, then ` <detached ...>`). strace lets a
        process go at its exec event: the execve calls that fail before it
        show as any call; the run's command's own exec is not one to stop at."""
        if tid in self._detached:
            if rtype in (_EXIT_T, _KILLED_T):
                self._detached.discard(tid)
            elif tid in self._exec_line and rtype == _SYSCALL and self.name(field(rec, "pers"), field(rec, "nr")) in _EXECS:
                self._exec_line.discard(tid)  # the execve the exec event came from: its line, then nothing
                if self._strace and self.show_trace:
                    text = self._entry_text(_entry_half(rec))
                    if text.endswith(", "):
                        text = text[:-2]
                    self._line(tid, rec[2], text + " <detached ...>")
                elif not self._strace:
                    self._write_machine(rec, None, tid)
                self._drop(tid)  # as gone: its later records announce nothing
            elif tid in self._exec_line and rtype == _EXIT_CALL_T:
                self._exec_line.discard(tid)
            return True
        if rtype != _EXEC:
            return False
        if tid in self._exec_skip:  # run: the command's own exec is not the one to detach at
            self._exec_skip.discard(tid)
            return False
        self._detached.add(tid)
        if len(self._detached) >= _DEAD_MAX:
            self._detached.clear()
        if self.roots is not None and tid in self.roots:
            self.detached_roots.add(tid)
        if "attach" not in self.o.quiet:
            self.note(f"Process {tid} detached")
        if self._exec_unseen:
            self._drop(tid)
        else:
            self._exec_line.add(tid)  # the execve's own record comes next
            if len(self._exec_line) >= _DEAD_MAX:
                self._exec_line.clear()
        self.calls.leave(tid)
        return True

    def _note_ip(self, rtype, rec, tid) -> None:
        """-i: the ip the next line shows: a call's or signal's own (the
        record's ext), a resumed call's from its entry, else none."""
        ip = ext(rec).get("ip") if rtype in (_SYSCALL, _ENTRY_T, _SIGNAL_T) else None
        if ip is not None:
            if rtype != _SIGNAL_T:
                if len(self._ips) >= _DEAD_MAX:
                    self._ips.clear()
                self._ips[tid] = ip
        elif rtype == _EXIT_CALL_T:
            ip = self._ips.get(tid)
        self.layout.ip = ip

    def _emit_raw(self, rec, tid) -> None:
        if self.fmt != "strace" and self._visible(tid) and (self.show_trace or self.fmt != "jsonl"):
            self._write_machine(rec, None, tid)

    # strace text handlers ------------------------------------------------------
    def _subcall_hidden(self, pers, nr, args) -> bool:
        """i386 socketcall/ipc whose subcall was not asked for (the filter
        selects the multiplexer whole)."""
        if pers != Pers.I386 or self.o.subcalls is None or not args:
            return False
        calls = _multiplexers().get(nr)
        if calls is None:
            return False
        return calls.get(args[0] & 0xFFFF) not in self.o.subcalls

    def _syscall(self, rec, tid) -> None:
        # the hot path: a SYSCALL record always has every field (only the
        # extension map may follow), so index it directly
        pers, nr, ret, is_error, flags = rec[_S_PERS], rec[_S_NR], rec[_S_RET], rec[_S_ERR], rec[_S_FLAGS]
        if pers != self._pers.get(tid, 0) and not self.pre_exec and self.name(pers, nr) not in _EXECS:
            self._pers_seen(tid, pers, rec[2])
        if pers == _I386 and self._subcall_hidden(pers, nr, field(rec, "args")):
            return self._unseen(rec)
        if not self._plain:
            if self.status_filter and not self._status_shown(self._status_of(rec, ret, is_error, flags or 0)):
                return self._unseen(rec)
            if self.paths and not self._path_shown(rec):
                return self._unseen(rec)
            if self.summary is not None:
                if ret is not None:  # _count, with the SYSCALL record's fixed positions
                    ns = rec[_S_DUR] if self.o.wall or rec[_S_CPU] is None else rec[_S_CPU]
                    self.summary.add(pers, nr, ns, bool(is_error))
                if not self.show_trace:
                    return self._unseen(rec)
        if flags and flags & _VANISHED and ret is None:
            # the task went away inside the call: strace's open line closed
            # with `<unfinished ...>) = ?`
            entry = _entry_half(rec, flags or 0)
            head = self._entry_text(entry)
            tail, rtext = vanished_tail(head)
            head += tail
        else:  # the call as (head, return) from the decoder; its raw form if the decoder fails
            split = self._split
            try:
                if split is None:  # a decoder whose call() alone was changed: its text, cut
                    head, rtext = split_text(self.d.call(rec))
                else:
                    head, rtext = split(rec)
                    if "= " in rtext:  # as the joined text would be cut: at its last ` = `
                        head, rtext = split_text(f"{head} = {rtext}")
            except Exception:
                head, rtext = split_text(self._raw_call(rec))
        if self._pidns and len(rec) > _S_LEN:
            head, rtext = _append(head, rtext, self._pidns_comment(rec, pers, nr, ret))
        if flags and flags & _TAMPERED:
            head, rtext = _append(head, rtext, tamper_marks(flags))
        st = self._stream(tid) if self.per_pid else self.main
        if st.open_tid is not None:
            st.close_open()
        self._layout_call(st, tid, rec[2], nr, len(self.live) > 1, head, rtext, rec[_S_DUR])
        if not self._after:
            return
        if self._stack:
            if self.name(pers, nr) in ("exit", "exit_group"):
                self._late_stack[tid] = rec  # strace prints these after `+++ exited ...`
            else:
                self._stack_lines(st, rec)
        if self.dumps:
            self._dump(st, pers, nr, field(rec, "args"), ret, is_error, (field(rec, "mem"),))

    @staticmethod
    def _stack_lines(st, rec) -> None:
        """-k: the frames the worker unwound at the call's entry (ext
        "stack", each line as strace prints it: ` > module(symbol+0xoff) [0xaddr]`)."""
        frames = ext(rec).get("stack")
        if frames:
            st.write("".join(f"{f}\n" for f in frames))
            st.col = 0

    def _pidns_comment(self, rec, pers, nr, ret) -> str:
        """--pidns-translation: a pid a task of another pid namespace got
        back (getpid, clone, wait4, ...) gets strace's `/* N in strace's PID
        NS */` (pid arguments and si_pid: the decoder, client/decode/_pidns.py)."""
        t = self.d.pidns
        if t is None or ret is None or ret <= 0 or field(rec, "is_error"):
            return ""
        name = self.name(pers, nr)
        if name not in _PID_RETURNS:
            if name in _FCNTLS and (field(rec, "args")[1] & 0xFFFFFFFF) == _F_GETOWN:
                return t.comment(rec[3], ret)  # the owner, a pid (a group's is negative)
            return ""
        if name in _FORKS:
            t.forked(rec[3], ret)
        return t.comment(rec[3], ret)

    def _unseen(self, rec) -> None:
        """A call that is not printed still tells the decoder what happened to
        fds (its -y/-P table), when the decoder wants to know."""
        observe = self._observe
        if observe is not None:
            try:
                observe(rec)
            except Exception:
                pass

    def _entry(self, rec, tid) -> None:
        pers, nr = field(rec, "pers"), field(rec, "nr")
        if pers != self._pers.get(tid, 0) and not self.pre_exec and self.name(pers, nr) not in _EXECS:
            self._pers_seen(tid, pers, rec[2])
        if pers == _I386 and self._subcall_hidden(pers, nr, field(rec, "args")):
            self._skip_exit.add(tid)
            return
        self.calls.enter(tid, rec)
        if self.status_filter or self.paths:
            # strace holds the line until the exit decides whether it is shown
            return
        if not self.show_trace:
            return
        text = self._entry_text(rec)
        self.calls.printed(tid, text)  # the exit's line reuses it
        st = self._begin(tid, rec[2], nr)
        st.write(text)
        st.col += len(text)
        st.open_tid = tid
        if not self._batch:  # batched: the frame's end flushes it
            st.fp.flush()

    def _exit(self, rec, tid) -> None:
        if len(rec) < _X_LEN:  # a short record (not from our tracer): absent fields read as None
            rec = list(rec) + [None] * (_X_LEN - len(rec))
        pers, nr = rec[_X_PERS], rec[_X_NR]
        if tid in self._skip_exit:
            self._skip_exit.discard(tid)
            return
        ret, is_error, flags = rec[_X_RET], rec[_X_ERR], rec[_X_FLAGS] or 0
        entry, etext = self.calls.leave(tid)
        held = entry is not None and (self.status_filter or self.paths)
        if held:
            status = self._status_of(rec, ret, is_error, flags)
            if not self._status_shown(status) or not self._path_shown(entry):
                return
        if self.summary is not None:
            self._count(rec, pers, nr, ret, is_error)
        if not self.show_trace:
            return
        if entry is not None and etext is None:  # held: the entry is formatted now, once
            etext = self._entry_text(entry)
        if flags & SysFlag.VANISHED and ret is None:
            head, rtext = vanished_tail(etext or "")
        else:
            head, rtext = self._resumed_parts(rec, entry)
            if self._pidns and len(rec) > _X_LEN:
                head, rtext = _append(head, rtext, self._pidns_comment(rec, pers, nr, ret))
            if flags & _TAMPERED:
                head, rtext = _append(head, rtext, tamper_marks(flags))
        if held:
            st = self._begin(tid, entry[2], nr)
            st.write(etext)
            st.col += len(etext)
        else:
            st = self._stream(tid)
            if st.open_tid != tid:
                st = self._begin(tid, rec[2], nr)
                resumed = resumed_lead(self.name(pers, nr))
                st.write(resumed)
                st.col += len(resumed)
        self.layout.end_call(st, head, rtext, rec[_X_DUR])
        if self._stack and entry is not None:
            self._stack_lines(st, entry)  # unwound at the entry, printed after the resumed line as strace does
        if self.dumps and entry is not None:
            self._dump(st, pers, nr, field(entry, "args"), ret, is_error, (field(entry, "mem"), field(rec, "mem")))

    def _gone(self, tid) -> None:
        """A task ended inside a call whose entry was shown: strace's
        `<unfinished ...>) = ?` line."""
        entry, etext = self.calls.leave(tid)
        if entry is None or not self.show_trace or self.status_filter or self.paths:
            return
        st = self._stream(tid)
        if st.open_tid != tid:
            st = self._begin(tid, entry[2], field(entry, "nr"))
            resumed = resumed_lead(self.name(field(entry, "pers"), field(entry, "nr")))
            st.write(resumed)
            st.col += len(resumed)
        head, rtext = vanished_tail(etext if etext is not None else self._entry_text(entry))
        self.layout.end_call(st, head, rtext, None)

    def _entry_text(self, entry) -> str:
        try:
            return self.d.entry(entry)
        except Exception:
            return self._raw_call(entry, entry=True)

    def _resumed_parts(self, rec, entry) -> tuple[str, str | None]:
        """An exit's text after its entry's, as (the head's rest, return)."""
        split = self._resumed_split
        try:
            if split is None:
                return split_text(self.d.resumed(rec, entry))
            rest, rtext = split(rec, entry)
        except Exception:
            return split_text(self._raw_ret(rec))
        if "= " in rtext:  # as the joined text would be cut: at its last ` = `
            return split_text(f"{rest} = {rtext}")
        return rest, rtext

    def _after_release(self, rec) -> bool:
        """True when the record is one of a task detached by release_ts (the
        first one such ends the task's call under way)."""
        rtype, tid = rec[0], rec[3]
        if rtype in (_LOST, _ERROR) or tid <= 0:
            return False
        if tid in self._released:
            return True
        end = rec[2] + (field(rec, "dur") or 0 if rtype == _SYSCALL else 0)
        if end < self.release_ts:
            return False
        self._released.add(tid)
        if self._visible(tid) or tid in self.live:
            self._release(tid, rec if rtype == _SYSCALL else None)
        self._drop(tid)
        return True

    def _release(self, tid, rec=None) -> None:
        """The task's call under way ends ` <detached ...>` (its line open,
        or held by -e status=/-P and shown when `detached` is asked for):
        strace's detach of the command it passed a fatal signal to."""
        st = self._stream(tid) if self.show_trace else None
        if st is not None and st.open_tid == tid:
            self.calls.leave(tid)
            st.write(" <detached ...>\n")
            st.open_tid = None
            st.col = 0
            return
        entry, etext = self.calls.leave(tid)
        if entry is None and rec is not None and rec[0] == _SYSCALL:
            # a whole record: its entry half is the call
            entry = _entry_half(rec)
        if entry is None or st is None:
            return
        if self.status_filter and not self._status_shown("detached"):
            return
        if self.paths and not self._path_shown(entry):
            return
        text = etext if etext is not None else self._entry_text(entry)  # `nanosleep({...}, `, as strace's open line
        self._line(tid, entry[2], text + " <detached ...>")

    def _exited(self, rec, tid) -> None:
        self._gone(tid)
        if self.o.syscall_number:
            # -n: strace shows the task's last call, traced or not: a task
            # that exited made exit_group (a process) or exit (a thread)
            group, thread = _EXIT_NRS.get(self._pers.get(tid, 0), _EXIT_NRS[0])
            self.layout.set_last_nr(tid, group if tid == rec[4] else thread)
        if self.show_trace and "exit" not in self.o.quiet:
            self._line(tid, rec[2], exited_text(field(rec, "status")))
        if self._late_stack:
            self._late_frames(tid)
        self._drop(tid)

    def _killed(self, rec, tid) -> None:
        self._gone(tid)
        signo = field(rec, "signo")
        if self.show_trace and self._signal_shown(signo):
            self._line(tid, rec[2], killed_text(signo, field(rec, "core")))
        if self._late_stack:
            self._late_frames(tid)
        self._drop(tid)

    def _late_frames(self, tid) -> None:
        """-k: an exit's frames, taken at its entry; strace prints them when
        the task is gone, after its `+++` line."""
        rec = self._late_stack.pop(tid, None)
        if rec is not None:
            self._stack_lines(self._stream(tid), rec)

    def _first_sight(self, tid, announce=True) -> None:
        """A task's first record. A child of a traced task can stop (and
        so be recorded) before its parent's fork event arrives: strace
        announces it when it first sees it, before any of its lines."""
        self.live.add(tid)
        if announce and self.roots is not None and tid not in self.roots:
            if len(self._early) >= _DEAD_MAX:  # fork events that never came (a long watch)
                self._early.clear()
            self._early.add(tid)
            if self.o.follow and "attach" not in self.o.quiet and self._strace:
                self.note(f"Process {tid} attached")

    def _drop(self, tid) -> None:
        self.live.discard(tid)
        self._pers.pop(tid, None)
        if len(self.dead) >= _DEAD_MAX:  # a long watch: forget old ids (pids get reused anyway)
            self.dead.clear()
        self.dead.add(tid)
        self.layout.forget(tid)
        st = self.files.pop(tid, None)
        if st is not None:
            st.drain()
            st.fp.close()

    def _signal(self, rec, tid) -> None:
        signo = field(rec, "signo")
        if not self.show_trace or not self._signal_shown(signo):
            return
        try:
            text = self.d.signal(rec)
        except Exception:
            text = f"--- {signame(signo)} ---"
        self._line(tid, rec[2], text)
        if self._stack:
            self._stack_lines(self._stream(tid), rec)  # where it was delivered

    def _stopped(self, rec, tid) -> None:
        signo = field(rec, "signo")
        if self.show_trace and self._signal_shown(signo):
            self._line(tid, rec[2], stopped_text(signo))

    def _exec(self, rec, tid) -> None:
        if self._comm:
            self.layout.load_comm(tid)  # a new program: a new name (strace reloads it at execve)
        old = field(rec, "old_tid")
        if old is not None and old != tid:
            # a non-leader thread exec'd and took the leader's id `tid`, as
            # strace tells it: the thread's open execve line ends with
            # "<pid changed to TID ...>" (in its own -ff file, which then
            # closes), the line for the leader's id says which thread
            # superseded it, and the call resumes under the leader's id
            shown = self.show_trace and self._visible(old)
            st = self._stream(old) if shown else None
            if st is not None and st.open_tid == old:
                st.write(f" <pid changed to {tid} ...>\n")
                st.open_tid = None
                st.col = 0
            self.calls.move(old, tid)
            if old in self._pers:
                self._pers[tid] = self._pers[old]
            self._drop(old)
            if shown and "superseded" not in self.o.quiet:
                self._line(tid, rec[2], f"+++ superseded by execve in pid {old} +++")

        pers = ext(rec).get("pers", 0)
        if pers != self._pers.get(tid, 0):
            self._pers[tid] = pers
            if self._pers_shown:
                self._pers_note[tid] = (pers, rec[2])

    def _attach(self, rec, tid) -> None:
        # strace: one note per process, "with N threads" when -f seized more
        # (the tracer reports every seized thread at start, one record each)
        if self._comm:
            self.layout.load_comm(tid)  # -Y: the name while the task lives (its +++ line comes after it is reaped)
        if self.o.attach and "attach" not in self.o.quiet:
            tgid = rec[4]
            self._attached[tgid] = self._attached.get(tgid, 0) + 1

    def _flush_attached(self) -> None:
        for tgid, n in self._attached.items():
            self.note(f"Process {tgid} attached with {n} threads" if n > 1 else f"Process {tgid} attached")
        self._attached.clear()

    def _detach(self, rec, tid) -> None:
        # a call under way whose line is open ends ` <detached ...>`, after
        # the note when both share a stream, as strace's detach prints them
        st = self._stream(tid) if self.show_trace else None
        open_here = st is not None and st.open_tid == tid
        if "attach" not in self.o.quiet and (self.o.attach or self.o.follow):
            if open_here:
                st.drain()
                self.notes.write(f"{NOTE_PREFIX}Process {tid} detached\n")
                self.notes.flush()
            else:
                self.note(f"Process {tid} detached")
        if open_here:
            st.write(" <detached ...>\n")
            st.open_tid = None
            st.col = 0
        self.calls.leave(tid)
        self.live.discard(tid)

    # -e read=/write= ----------------------------------------------------------------
    def _dump(self, st: Stream, pers: int, nr: int, args, ret, is_error, mems) -> None:
        """strace's hex dumps of the data a read/write moved on a chosen fd
        (client/_dumps.py)."""
        text = dump_text(self.name(pers, nr), pers, args, ret, is_error, mems, self.o.read_fds, self.o.write_fds)
        if text:
            st.write(text)
            st.col = 0

    # raw fallbacks --------------------------------------------------------------
    def _nargs(self, pers, nr) -> int:
        try:
            from tracerd.bpfgen import load_table

            sc = load_table().lookup(pers, nr)
            return len(sc.args) if sc is not None else 6
        except Exception:
            return 6

    def _raw_call(self, rec, entry=False) -> str:
        pers, nr = field(rec, "pers"), field(rec, "nr")
        args = field(rec, "args") or []
        shown = ", ".join(f"{a:#x}" if a else "0" for a in args[: self._nargs(pers, nr)])
        head = f"{self.name(pers, nr)}({shown}"
        if entry:
            return head + (", " if shown else "")
        return head + ") = " + self._raw_ret(rec).split(" = ", 1)[-1]

    def _raw_ret(self, rec) -> str:
        ret, is_error = field(rec, "ret"), field(rec, "is_error")
        if ret is None:
            return ") = ?"
        if is_error:
            e = -ret
            return f") = -1 {_errno.errorcode.get(e, str(e))} ({os.strerror(e)})"
        return f") = {ret}"

    # -c ---------------------------------------------------------------------------
    def _count(self, rec, pers, nr, ret, is_error) -> None:
        if self.summary is None or ret is None:
            return
        if self.o.wall:
            ns = field(rec, "dur")
        else:
            ns = field(rec, "cpu")
            if ns is None:
                ns = field(rec, "dur")
        self.summary.add(pers, nr, ns, bool(is_error))

    # jsonl / msgpack ----------------------------------------------------------------
    def _feed_machine(self, rtype, rec, tid) -> None:
        if rtype in _CALL_RECORDS and field(rec, "pers") == Pers.I386:
            if rtype == Rec.SYSCALL_EXIT:
                if tid in self._skip_exit:
                    self._skip_exit.discard(tid)
                    return
            elif self._subcall_hidden(Pers.I386, field(rec, "nr"), field(rec, "args")):
                if rtype == Rec.SYSCALL_ENTRY:
                    self._skip_exit.add(tid)
                return
        if rtype in (Rec.SYSCALL, Rec.SYSCALL_EXIT):
            ret, is_error, flags = field(rec, "ret"), field(rec, "is_error"), field(rec, "flags") or 0
            if not self._status_shown(self._status_of(rec, ret, is_error, flags)):
                return
            if rtype == Rec.SYSCALL and not self._path_shown(rec):
                return
        if rtype in (Rec.SIGNAL, Rec.STOPPED) and not self._signal_shown(field(rec, "signo")):
            return
        entry = etext = None
        if rtype == Rec.SYSCALL_ENTRY:
            self.calls.enter(tid, rec)
        elif rtype == Rec.SYSCALL_EXIT:
            entry, etext = self.calls.leave(tid)
        if self.summary is not None and self.fmt == "jsonl" and rtype in (Rec.SYSCALL, Rec.SYSCALL_EXIT):
            self._count(rec, field(rec, "pers"), field(rec, "nr"), field(rec, "ret"), field(rec, "is_error"))
        if self.show_trace or self.fmt != "jsonl":
            self._write_machine(rec, entry, tid, etext)
        if rtype in (Rec.EXIT, Rec.KILLED):
            self._drop(tid)

    def _write_machine(self, rec, entry=None, tid=None, etext=None) -> None:
        if self.fmt == "msgpack":
            self._bout.write(self._packer.pack(rec))
        else:
            from ._jsonl import encode_line, to_dict  # on use: json is not imported for strace text

            obj = to_dict(rec, self.d, entry, etext)
            if rec[0] == Rec.SYSCALL_ENTRY and obj.get("text") is not None:
                self.calls.printed(tid, obj["text"])  # its exit's args reuse it
            st = self._stream(tid) if self.per_pid and tid is not None else self.main
            st.write(encode_line(obj) + "\n")

    # end ----------------------------------------------------------------------------
    def flush(self) -> None:
        """End of a frame: print pending notes, push buffered lines out (a
        frame is the tracer's unit of latency; lines should not wait longer)."""
        self._flush_attached()
        for st in (self.main, *self.files.values()):
            try:
                st.drain()
                st.fp.flush()
            except ValueError:
                pass
        if self.fmt == "msgpack":
            self._bout.flush()

    def finish(self) -> None:
        """Close open lines, print the -c/-C summary, flush and close -ff files."""
        self._flush_attached()
        for st in [self.main, *self.files.values()]:
            st.close_open()
            try:
                st.drain()
            except (OSError, ValueError):
                pass
        if self.summary is not None and self.fmt == "jsonl":
            from ._jsonl import SCHEMA, encode_line

            summary = self.summary.as_json(self._name_of or self.name)
            self.main.write(encode_line({"type": "summary", "schema": SCHEMA, **summary}) + "\n")
            self.main.drain()
        elif self.summary is not None and not self.summary.empty():
            name_of = self._name_of or self.name
            fp = self.main.fp
            isatty = getattr(fp, "isatty", None)
            if isatty is not None and isatty() and self.o.output is None:
                fp.flush()
                self.summary.render_rich(name_of, fp)
            else:
                fp.write(self.summary.render_plain(name_of))
        for st in self.files.values():
            st.fp.close()
        self.files.clear()
        try:
            if self.fmt == "msgpack":
                self._bout.flush()
            self.main.fp.flush()
        except (OSError, ValueError):
            pass


_DEAD_MAX = 1 << 16
_SYSCALL, _EXEC, _LOST, _ERROR, _NEWTASK, _ATTACH = (int(r) for r in (Rec.SYSCALL, Rec.EXEC, Rec.LOST, Rec.ERROR, Rec.NEWTASK, Rec.ATTACH))
_ENTRY_T, _EXIT_T, _KILLED_T = int(Rec.SYSCALL_ENTRY), int(Rec.EXIT), int(Rec.KILLED)
_SIGNAL_T, _EXIT_CALL_T = int(Rec.SIGNAL), int(Rec.SYSCALL_EXIT)
_I386 = int(Pers.I386)
_SYSCALL_EXIT = int(Rec.SYSCALL_EXIT)
_SYSCALL_ENTRY = int(Rec.SYSCALL_ENTRY)
# --pidns-translation: the calls whose return value is a pid (strace's
# RVAL_TGID/RVAL_TID/RVAL_PGID/RVAL_SID ones)
_FORKS = frozenset({"clone", "clone3", "fork", "vfork"})
_FCNTLS, _F_GETOWN = frozenset({"fcntl", "fcntl64"}), 9
_PID_RETURNS = _FORKS | {"getpid", "gettid", "getppid", "getpgrp", "getpgid", "getsid", "wait4", "waitpid", "setsid"}
_PERS_NAMES = {int(Pers.X86_64): "64 bit", int(Pers.I386): "32 bit", int(Pers.X32): "x32"}
_VANISHED = int(SysFlag.VANISHED)
_TAMPERED = int(SysFlag.INJECTED | SysFlag.POKED | SysFlag.DELAYED)


def _entry_half(rec: list, flags: int = 0) -> list:
    """A whole SYSCALL record's entry half, as a SYSCALL_ENTRY record (to
    print the call's open line)."""
    return record(Rec.SYSCALL_ENTRY, rec[1], rec[2], rec[3], rec[4], field(rec, "pers"), field(rec, "nr"),
                  field(rec, "args"), field(rec, "mem"), flags)


def _append(head: str, rtext: str | None, more: str) -> tuple[str, str | None]:
    """Text after a call's return (a comment, tamper marks); after its head
    when it has no return."""
    if rtext is None:
        return head + more, None
    return head, rtext + more


@functools.cache
def _multiplexers() -> dict:
    """i386 number of each multiplexer (socketcall, ipc) -> its subcalls
    {number: name}, from the syscall table (their one home)."""
    from tracerd.bpfgen import load_table

    t = load_table()
    return {t.syscalls[m].numbers[Pers.I386]: subs for m, subs in t.multiplexers.items() if Pers.I386 in t.syscalls[m].numbers}


_CALL_RECORDS = frozenset({Rec.SYSCALL, Rec.SYSCALL_ENTRY, Rec.SYSCALL_EXIT})
_EXECS = frozenset({"execve", "execveat"})

# calls whose data -e read=/write= dump (buffer or iovec in argument 1)

_HANDLERS = {
    Rec.SYSCALL: Printer._syscall,
    Rec.SYSCALL_ENTRY: Printer._entry,
    Rec.SYSCALL_EXIT: Printer._exit,
    Rec.EXIT: Printer._exited,
    Rec.KILLED: Printer._killed,
    Rec.SIGNAL: Printer._signal,
    Rec.STOPPED: Printer._stopped,
    Rec.EXEC: Printer._exec,
    Rec.ATTACH: Printer._attach,
    Rec.DETACH: Printer._detach,
}
