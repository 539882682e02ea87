"""What `tracectl top` counts and draws (rich): per syscall calls/s, errors/s,
mean and p99 latency; per process its top calls. Fed records by the reader
thread, read by the screen loop: one lock around both.

Latency is the records' `dur` (entry to exit, CLOCK_MONOTONIC ns at the two
stops: what -T shows and -c -w counts). The mean is over the whole run; the
p99 over each call's last WINDOW calls (a bounded ring: a long run must not
grow without bound), by nearest rank, like -c's p99 column.
"""

from __future__ import annotations

import threading
import time
from array import array

from tracerd._wire import IDX, Rec

from ._summary import percentile

WINDOW = 4096  # calls per syscall kept for the p99
SORTS = {  # key -> (column title, sort key on a row)
    "c": ("calls/s", lambda r: -r["rate"]),
    "e": ("errors/s", lambda r: -r["erate"]),
    "m": ("mean", lambda r: -r["mean"]),
    "p": ("p99", lambda r: -r["p99"]),
    "t": ("calls", lambda r: -r["calls"]),
    "n": ("syscall", lambda r: r["name"]),
}
_SYSCALL, _EXIT, _ENTRY = int(Rec.SYSCALL), int(Rec.SYSCALL_EXIT), int(Rec.SYSCALL_ENTRY)
_LOST, _COUNT = int(Rec.LOST), IDX[Rec.LOST]["count"]
_PERS, _NR = IDX[Rec.SYSCALL]["pers"], IDX[Rec.SYSCALL]["nr"]
_S_RET, _S_ERR, _S_DUR = (IDX[Rec.SYSCALL][n] for n in ("ret", "is_error", "dur"))
_X_RET, _X_ERR, _X_DUR = (IDX[Rec.SYSCALL_EXIT][n] for n in ("ret", "is_error", "dur"))
assert (_PERS, _NR) == (IDX[Rec.SYSCALL_EXIT]["pers"], IDX[Rec.SYSCALL_EXIT]["nr"])
_EXITED = (int(Rec.EXIT), int(Rec.KILLED))


class _Call:
    __slots__ = ("calls", "errors", "total_ns", "timed", "ring", "pos", "prev_calls", "prev_errors", "rate", "erate")

    def __init__(self):
        self.calls = self.errors = self.total_ns = self.timed = 0
        self.ring = array("q")
        self.pos = 0
        self.prev_calls = self.prev_errors = 0
        self.rate = self.erate = 0.0


class TopStats:
    def __init__(self, name_of):
        self.name_of = name_of  # (pers, nr) -> name
        self.lock = threading.Lock()
        self.calls: dict[tuple[int, int], _Call] = {}
        self.procs: dict[int, dict[tuple[int, int], int]] = {}  # tgid -> (pers, nr) -> calls in this interval
        self.proc_rates: dict[int, dict[tuple[int, int], float]] = {}
        self.gone: set[int] = set()
        self.records = 0
        self.lost = 0
        self.started = time.monotonic()
        self._tick = self.started

    def feed(self, rec: list) -> None:
        t = rec[0]
        if t == _SYSCALL or t == _EXIT:
            key = (rec[_PERS], rec[_NR])
            if t == _SYSCALL:
                ret, err, dur = rec[_S_RET], rec[_S_ERR], rec[_S_DUR]
            else:
                ret, err, dur = rec[_X_RET], rec[_X_ERR], rec[_X_DUR]
            with self.lock:
                self.records += 1
                c = self.calls.get(key)
                if c is None:
                    c = self.calls[key] = _Call()
                c.calls += 1
                if err and ret is not None:
                    c.errors += 1
                if dur is not None and ret is not None:
                    c.total_ns += dur
                    c.timed += 1
                    if len(c.ring) < WINDOW:
                        c.ring.append(dur)
                    else:
                        c.ring[c.pos] = dur
                        c.pos = (c.pos + 1) % WINDOW
                p = self.procs.setdefault(rec[4], {})
                p[key] = p.get(key, 0) + 1
        elif t == _LOST:
            with self.lock:
                self.lost += rec[_COUNT]
        elif t in _EXITED and rec[3] == rec[4]:
            with self.lock:
                self.gone.add(rec[4])

    def tick(self) -> None:
        """End of a screen interval: rates over it."""
        now = time.monotonic()
        with self.lock:
            dt = max(now - self._tick, 1e-6)
            self._tick = now
            for c in self.calls.values():
                c.rate = (c.calls - c.prev_calls) / dt
                c.erate = (c.errors - c.prev_errors) / dt
                c.prev_calls, c.prev_errors = c.calls, c.errors
            self.proc_rates = {tgid: {k: n / dt for k, n in p.items()} for tgid, p in self.procs.items()}
            self.procs = {tgid: {} for tgid in self.procs if tgid not in self.gone}

    def rows(self, sort: str) -> list[dict]:
        with self.lock:
            items = [(k, c.calls, c.errors, c.rate, c.erate, c.total_ns // c.timed if c.timed else 0, sorted(c.ring)) for k, c in self.calls.items()]
        rows = [{"name": self.name_of(*k), "calls": n, "errors": e, "rate": r, "erate": er, "mean": m, "p99": percentile(ring, 99)} for k, n, e, r, er, m, ring in items]
        rows.sort(key=SORTS[sort][1])
        return rows

    def processes(self, top: int = 3) -> list[tuple[int, float, list[tuple[str, float]]]]:
        with self.lock:
            rates = {tgid: dict(p) for tgid, p in self.proc_rates.items()}
        out = []
        for tgid, p in rates.items():
            best = sorted(p.items(), key=lambda kv: -kv[1])[:top]
            out.append((tgid, sum(p.values()), [(self.name_of(*k), r) for k, r in best]))
        out.sort(key=lambda x: -x[1])
        return out


def ns_text(ns: int) -> str:
    """ns with its unit, every digit down to the ns kept below 1 s."""
    if ns < 1000:
        return f"{ns} ns"
    if ns < 1_000_000:
        return f"{ns // 1000}.{ns % 1000:03d} us"
    if ns < 1_000_000_000:
        return f"{ns // 1_000_000}.{ns % 1_000_000:06d} ms"
    return f"{ns / 1e9:.6f} s"


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def render(stats: TopStats, *, title: str, sort: str, status: str, height: int = 40):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    rows = stats.rows(sort)
    procs = stats.processes()
    up = time.monotonic() - stats.started
    head = Text.assemble(("tracectl top", "bold"), f"  {title}  ", (f"{stats.records} calls in {up:.0f}s", ""), (f"  {stats.lost} records lost" if stats.lost else "", "bold red"), f"  {status}")
    t = Table(expand=True, box=None, header_style="bold reverse", pad_edge=False)
    marked = SORTS[sort][0]
    for col, justify in (("syscall", "left"), ("calls/s", "right"), ("errors/s", "right"), ("mean", "right"), ("p99", "right"), ("calls", "right"), ("errors", "right")):
        t.add_column(col + (" ▼" if col == marked else ""), justify=justify, no_wrap=True)
    nproc = min(len(procs), 8)
    room = max(3, height - nproc - 8)
    for r in rows[:room]:
        t.add_row(r["name"], f"{r['rate']:.0f}", f"{r['erate']:.0f}", ns_text(r["mean"]), ns_text(r["p99"]), str(r["calls"]), str(r["errors"]) if r["errors"] else "")
    p = Table(expand=True, box=None, header_style="bold reverse", pad_edge=False)
    p.add_column("pid", justify="right", no_wrap=True)
    p.add_column("command", no_wrap=True)
    p.add_column("calls/s", justify="right", no_wrap=True)
    p.add_column("top calls", no_wrap=True)
    for tgid, total, best in procs[:nproc]:
        p.add_row(str(tgid), _comm(tgid), f"{total:.0f}", "  ".join(f"{n} {r:.0f}/s" for n, r in best))
    keys = Text("sort: c calls/s  e errors/s  m mean  p p99  t calls  n name    q quit", style="dim")
    return Group(head, Text(""), t, Text(""), p, Text(""), keys)
