"""Line layout: how a line strace prints is laid out, once the sequencing
(`Printer`, client/_output.py) has decided what to print and where.

`Layout` owns the line's lead (pid prefixes `[pid  N] ` / `N     ` /
`N<comm> `, -t/-tt/-ttt and -r times, -i's instruction pointer, -n's
syscall number) and the column alignment of ` = ret` (-a, default 40) with
-T's `<secs>`. The module's functions are the texts strace writes around a
call (` <unfinished ...>`, `<... NAME resumed>`, `+++ exited with N +++`,
...): the printer and the sinks' SessionFormatter (client/sinks/_event.py)
both take them from here.

`Stream` is one output file and the state of its current line (which
task's call entry is open, the column).
"""

from __future__ import annotations

import time

from tracerd._signals import signame as _signame

UNFINISHED = " <unfinished ...>"
_UNFINISHED_NL = UNFINISHED + "\n"


def signame(signo: int) -> str:
    """A signal's name as strace prints it (`SIGRTMIN`, `SIGRT_1`), else its number."""
    return _signame(signo) or str(signo)


def fmt_secs(ns: int, digits: int) -> str:
    if digits == 0:
        return str(ns // 10**9)
    unit = 10 ** (9 - digits)
    v = ns // unit
    return f"{v // 10**digits}.{v % 10**digits:0{digits}d}"


# -- the texts strace writes around calls ------------------------------------------

def resumed_lead(name: str) -> str:
    return f"<... {name} resumed>"


def exited_text(status) -> str:
    return f"+++ exited with {status} +++"


def killed_text(signo: int, core) -> str:
    return f"+++ killed by {signame(signo)} {'(core dumped) ' if core else ''}+++"


def stopped_text(signo: int) -> str:
    return f"--- stopped by {signame(signo)} ---"


def vanished_tail(entry_text: str) -> tuple[str, str]:
    """How strace ends the line of a call whose task went away, as (the
    rest of the head, return): `) = ?` when every argument was printed at
    entry, else ` <unfinished ...>) = ?` (the exit-time arguments never came)."""
    if entry_text == "" or entry_text.endswith(", "):
        return UNFINISHED + ")", "?"
    return ")", "?"


def split_text(text: str) -> tuple[str, str | None]:
    """A call's joined text `head = ret` as (head, ret), cut at its last
    ` = `; (text, None) when it has none (then it is not aligned)."""
    head, sep, ret = text.rpartition(" = ")
    if not sep:
        return text, None
    return head.rstrip(" "), ret


def align(head: str, ret: str, col: int, acolumn: int) -> str:
    """`head = ret` with ` = ` padded to `acolumn` when the line already
    holds `col` characters (strace's -a: at least one space before `=`)."""
    pad = acolumn - col - len(head) - 1
    return f"{head} {' ' * pad}= {ret}" if pad > 0 else f"{head} = {ret}"


def dump_lines(data: bytes) -> str:
    """strace's hex dump (-e read=/write=) of `data`, one line per 16 bytes."""
    out = []
    for off in range(0, len(data), 16):
        chunk = data[off : off + 16]
        hx = "".join((f"{chunk[i]:02x} " if i < len(chunk) else "   ") + (" " if i == 7 else "") for i in range(16))
        text = "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in chunk)
        out.append(f" | {off:05x}  {hx} {text:<16} |\n")
    return "".join(out)


class Stream:
    """One output file and the state of its current line.

    `write` is the file's own write, or (batched) an append to a list that
    `drain` joins into one write: the frame loop drains once per frame, so a
    frame of N lines costs one write instead of ~3N (on line-buffered stderr,
    one write(2) instead of N)."""

    __slots__ = ("fp", "open_tid", "col", "write", "_buf")

    def __init__(self, fp, batch: bool = False):
        self.fp = fp
        self.open_tid = None  # task whose call entry is printed and not yet ended
        self.col = 0
        if batch:
            self._buf = []
            self.write = self._buf.append
        else:
            self._buf = None
            self.write = fp.write

    def close_open(self, tail: str = _UNFINISHED_NL) -> None:
        """End the open line, if any (another task's line comes, or the end)."""
        if self.open_tid is not None:
            self.write(tail)
            self.open_tid = None
            self.col = 0

    def drain(self) -> None:
        buf = self._buf
        if buf:
            data = "".join(buf)
            buf.clear()
            self.fp.write(data)


class Layout:
    """The lead and alignment of every line, by the output options.

    options: a RunOptions. per_pid: -ff (one file per task: no pid prefix).
    file_pid_prefix: pids prefix every line of the -o file. to_file: -o (on
    stderr pids prefix lines only while several tasks are live)."""

    def __init__(self, options, *, per_pid: bool, file_pid_prefix: bool, to_file: bool):
        o = self.o = options
        self.per_pid = per_pid
        self.file_pid_prefix = file_pid_prefix
        self.to_file = to_file
        self.acolumn = options.acolumn
        self.times = options.syscall_times  # -T
        self.dur_precision = options.dur_precision
        self.iflag = getattr(options, "iflag", False)  # -i: [instruction pointer] on every line
        self.comm = getattr(options, "pid_comm", False)  # -Y: prefixes as N<comm>
        # no -t/-r/-n/-i: a lead is at most the pid prefix
        self.static = not (o.tflag or o.relative or o.syscall_number or self.iflag)
        self.ip = None  # -i: the ip of the line being printed (None: `????????????????`)
        self.last_ts: int | None = None  # -r: the previous line's time
        self._stamp_sec, self._stamp = None, ""  # -t/-tt: the last second formatted
        self._last_nr: dict[int, int] = {}  # -n: each task's last syscall number
        self._comms: dict[int, str | None] = {}  # -Y: tid -> its comm, read at first sight and after exec
        self._leads: dict[tuple, str] = {}  # (tid, multi) -> a static lead (call_line)

    # -- leads ---------------------------------------------------------------------
    def lead(self, tid: int, ts, nr, multi: bool) -> str:
        """What a line of `tid` starts with. multi: several tasks are live
        (pids prefix stderr's lines then)."""
        if self.per_pid:
            pid = ""
        elif self.file_pid_prefix:
            pid = self._comm_prefix(tid, True) if self.comm else f"{tid:<5d} "
        elif multi and not self.to_file:
            pid = self._comm_prefix(tid, False) if self.comm else f"[pid {tid:5d}] "
        else:
            pid = ""
        if self.static:
            return pid
        return pid + self._rest(tid, ts, nr)

    def _rest(self, tid: int, ts, nr) -> str:
        o = self.o
        parts = []
        if ts is not None and (o.tflag or o.relative):
            if o.tflag:
                if o.ts_format == "unix":
                    parts.append(fmt_secs(ts, o.ts_precision) + " ")
                else:
                    sec = ts // 10**9
                    if sec != self._stamp_sec:  # the same second on many lines: format it once
                        self._stamp_sec, self._stamp = sec, time.strftime("%H:%M:%S", time.localtime(sec))
                    stamp = self._stamp
                    if o.ts_precision:
                        p = o.ts_precision
                        if ts >= 0 and p <= 9:  # the fraction alone: what fmt_secs prints after the seconds
                            stamp += f".{(ts % 10**9) // 10 ** (9 - p):0{p}d}"
                        else:
                            stamp += fmt_secs(ts, p)[len(str(sec)) :]
                    parts.append(stamp + " ")
            if o.relative:
                delta = 0 if self.last_ts is None else max(ts - self.last_ts, 0)
                self.last_ts = ts
                secs, _, frac = fmt_secs(delta, o.rel_precision).partition(".")
                rel = f"{int(secs):6d}" + ("." + frac if frac else "")
                parts.append(f"(+{rel}) " if o.tflag else f"{rel} ")
        if self.iflag:
            ip = self.ip
            parts.append(f"[{ip:016x}] " if ip is not None else "[????????????????] ")
        if o.syscall_number:
            # strace prints the task's current syscall number on every line,
            # so +++/--- lines carry the number of its last call
            if nr is None:
                nr = self._last_nr.get(tid, 0)
            else:
                self._last_nr[tid] = nr
            parts.append(f"[{nr:4d}] ")
        return "".join(parts)

    def _comm_prefix(self, tid: int, in_file: bool) -> str:
        """-Y's pid prefix: `N<comm> ` in a file, `[pid  N<comm>] ` on stderr
        (strace drops the file prefix's padding when it has a comm)."""
        if tid not in self._comms:
            self.load_comm(tid)
        comm = self._comms.get(tid)
        if in_file:
            return f"{tid}<{comm}> " if comm else f"{tid:<5d} "
        return f"[pid {tid:5d}<{comm}>] " if comm else f"[pid {tid:5d}] "

    def see(self, tid: int) -> None:
        """-Y: a task attached: its name read now, while it is there (a
        process that runs untraced until it exits would have none left)."""
        if self.comm and tid not in self._comms:
            self.load_comm(tid)

    def load_comm(self, tid: int) -> None:
        """-Y: read the task's name now (first sight; after an exec, a new program)."""
        if not self.comm:
            return
        from .decode._core import task_comm

        if len(self._comms) >= 1 << 16:
            self._comms.clear()
        self._comms[tid] = task_comm(tid)
        self._leads.clear()  # a lead may hold the old name

    def set_last_nr(self, tid: int, nr: int) -> None:
        """-n: the number the task's next line (+++ exited) carries."""
        self._last_nr[tid] = nr

    def forget(self, tid: int) -> None:
        """The task is gone."""
        self._last_nr.pop(tid, None)

    # -- whole lines -------------------------------------------------------------------
    def ret(self, ret: str, dur) -> str:
        """The return text with -T's duration."""
        if self.times and dur is not None:
            return f"{ret} <{fmt_secs(dur, self.dur_precision)}>"
        return ret

    def call_line(self, st: Stream, tid: int, ts, nr, multi: bool, head: str, ret: str | None, dur) -> None:
        """A whole call's line, in one write: the lead (see lead()), `head = ret` aligned."""
        if self.static:  # a lead of the task alone: remembered
            lead = self._leads.get((tid, multi))
            if lead is None:
                lead = self.lead(tid, ts, nr, multi)
                if len(self._leads) >= 4096:
                    self._leads.clear()
                self._leads[(tid, multi)] = lead
        else:
            lead = self.lead(tid, ts, nr, multi)
        if ret is None:
            st.write(f"{lead}{head}\n")
        else:
            if self.times and dur is not None:
                ret = f"{ret} <{fmt_secs(dur, self.dur_precision)}>"
            pad = self.acolumn - len(lead) - len(head) - 1
            st.write(f"{lead}{head} {' ' * pad}= {ret}\n" if pad > 0 else f"{lead}{head} = {ret}\n")
        st.col = 0

    def end_call(self, st: Stream, head: str, ret: str | None, dur) -> None:
        """End the open line of st (its lead and entry, or `<... resumed>`,
        written) with `head = ret` aligned after what it holds."""
        if ret is None:
            st.write(head + "\n")
        else:
            st.write(align(head, self.ret(ret, dur), st.col, self.acolumn) + "\n")
        st.open_tid = None
        st.col = 0
