"""strace's -c/-C summary table, from ns-precise record times.

The layout follows strace's count.c column for column (widths, formats, the
dashes, the `total` line, one table per personality); the times are ours:
`cpu` (on-CPU ns of the call, from schedstat) by default, `dur` (wall ns,
entry to exit) with -w. Drawn with rich when the output is a terminal.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from tracerd._wire import Pers

# strace's personality names for the table headers (x86_64 build)
PERS_NAMES = {Pers.X86_64: "64 bit", Pers.I386: "32 bit", Pers.X32: "x32"}

# column id -> (header, minimum width, left-aligned)
COLUMNS = {
    "percent": ("% time", 6, False),
    "total": ("seconds", 11, False),
    "min": ("shortest", 8, False),
    "max": ("longest", 7, False),
    "avg": ("usecs/call", 11, False),
    "calls": ("calls", 9, False),
    "errors": ("errors", 9, False),
    "name": ("syscall", 16, True),
    # ours: percentiles of the calls' times (nearest rank), in microseconds
    # with the nanoseconds shown (-U p50-time,p99-time)
    "p50": ("p50 usecs", 11, False),
    "p99": ("p99 usecs", 11, False),
}
PERCENTILES = {"p50": 50, "p99": 99}


@dataclass
class _Count:
    """One syscall's counts for -c."""

    calls: int = 0
    errors: int = 0
    time: int = 0  # ns
    tmin: int | None = None
    tmax: int = 0
    samples: array | None = None  # every call's time (ns), kept only for percentile columns


def percentile(sorted_ns, p: int) -> int:
    """Nearest-rank percentile of sorted values (0 when there are none)."""
    n = len(sorted_ns)
    if not n:
        return 0
    k = max(0, -(-p * n // 100) - 1)  # ceil(p*n/100) - 1
    return sorted_ns[k]


def usecs(ns: int) -> str:
    return f"{ns // 1000}.{ns % 1000:03d}"


class Summary:
    """Counts calls per (personality, number) and renders strace's table."""

    def __init__(self, *, sortby: str = "time", columns=("percent", "total", "avg", "calls", "errors", "name"), overhead_ns: int = 0):
        self.sortby = sortby
        self.columns = tuple(columns)
        self.overhead = overhead_ns
        self.counts: dict[Pers, dict[int, _Count]] = {}
        self._cells: dict[tuple[int, int], _Count] = {}  # (pers, nr) -> its cell in counts, found once
        self._keep = any(c in PERCENTILES for c in self.columns)  # 8 bytes per call, only when asked

    def add(self, pers: int, nr: int, ns: int | None, is_error: bool) -> None:
        # once per counted call: no enum built, no cell allocated after the first
        t = (ns or 0) - self.overhead
        if t < 0:
            t = 0
        c = self._cells.get((pers, nr))
        if c is None:
            c = self._cells[(pers, nr)] = self.counts.setdefault(Pers(pers), {}).setdefault(nr, _Count())
            if self._keep:
                c.samples = array("q")
        c.calls += 1
        if is_error:
            c.errors += 1
        c.time += t
        if c.tmin is None or t < c.tmin:
            c.tmin = t
        if t > c.tmax:
            c.tmax = t
        if c.samples is not None:
            c.samples.append(t)

    def tables(self, name_of) -> list[tuple[str | None, list[str], list[list[str]], list[str], list[bool]]]:
        """Per personality: (title, headers, rows, total row, left-aligned flags),
        every cell already formatted as strace formats it."""
        out = []
        for pers in sorted(self.counts):
            counts = self.counts[pers]
            if not counts:
                continue
            items = [(nr, name_of(pers, nr), c) for nr, c in sorted(counts.items())]
            total = sum(c.time for _, _, c in items)
            calls = sum(c.calls for _, _, c in items)
            errors = sum(c.errors for _, _, c in items)
            avg = {nr: c.time // c.calls for nr, _, c in items}
            key = {
                "time": lambda it: -it[2].time,
                "min": lambda it: -(it[2].tmin or 0),
                "max": lambda it: -it[2].tmax,
                "avg": lambda it: -avg[it[0]],
                "calls": lambda it: -it[2].calls,
                "errors": lambda it: -it[2].errors,
                "name": lambda it: it[1],
            }.get(self.sortby)
            if key is not None:
                items.sort(key=key)  # stable: ties stay in number order, as strace's qsort leaves them
            tmin_all = min((c.tmin or 0) for _, _, c in items)
            tmin_max = max((c.tmin or 0) for _, _, c in items)
            tmax_all = max(c.tmax for _, _, c in items)
            avg_max = max(avg.values())
            pct = {}
            if self._keep:
                every = sorted(x for _, _, c in items for x in (c.samples or ()))
                for col, p in PERCENTILES.items():
                    pct[col, None] = percentile(every, p)
                for nr, _, c in items:
                    mine = sorted(c.samples or ())
                    for col, p in PERCENTILES.items():
                        pct[col, nr] = percentile(mine, p)
            name_max = max(len(n) for _, n, _ in items)
            widths = {
                "percent": max(6, len("100.00")),
                "total": max(11, len(_secs(total))),
                "min": max(8, len(f"{tmin_max // 10**9}.000000")),
                "max": max(7, len(f"{tmax_all // 10**9}.000000")),
                "avg": max(11, len(str(avg_max // 1000))),
                "calls": max(9, len(str(calls))),
                "errors": max(9, len(str(errors))),
                "name": max(16, name_max + 1),
                **{col: max(COLUMNS[col][1], *(len(usecs(v)) for (k, _), v in pct.items() if k == col)) for col in PERCENTILES if self._keep},
            }

            def cells(percent, t, tmin, tmax, av, n, e, name, nr=None):
                vals = {
                    "percent": f"{percent:.2f}",
                    "total": _secs(t),
                    "min": _secs(tmin),
                    "max": _secs(tmax),
                    "avg": str(av // 1000),
                    "calls": str(n),
                    "errors": str(e) if e else "",
                    "name": name,
                }
                for col in PERCENTILES:
                    if (col, nr) in pct:
                        vals[col] = usecs(pct[col, nr])
                return [vals[c] for c in self.columns]

            rows = []
            for nr, name, c in items:
                share = 100.0 * c.time / total if c.time else 0.0
                rows.append(cells(share, c.time, c.tmin or 0, c.tmax, avg[nr], c.calls, c.errors, name, nr))
            tot = cells(100.0, total, tmin_all, tmax_all, total // calls if calls else 0, calls, errors, "total")
            title = None if pers == Pers.X86_64 else f"System call usage summary for {PERS_NAMES[pers]} mode:"
            heads = [COLUMNS[c][0] for c in self.columns]
            left = [COLUMNS[c][2] for c in self.columns]
            out.append((title, heads, rows, tot, left, [widths[c] for c in self.columns]))
        return out

    def render_plain(self, name_of) -> str:
        """strace's exact layout."""
        lines = []
        for title, heads, rows, tot, left, widths in self.tables(name_of):
            if title:
                lines.append(title)
            last = len(heads) - 1

            def fmt(cellv):
                parts = []
                for i, (v, w, lft) in enumerate(zip(cellv, widths, left)):
                    if lft:
                        parts.append(v if i == last else v.ljust(w))
                    else:
                        parts.append(v.rjust(w))
                return " ".join(parts)

            dashes = " ".join("-" * w for w in widths)
            lines.append(fmt(heads))
            lines.append(dashes)
            lines.extend(fmt(r) for r in rows)
            lines.append(dashes)
            lines.append(fmt(tot))
        return "".join(line + "\n" for line in lines)

    def render_rich(self, name_of, file) -> None:
        """The same table drawn with rich, for a terminal."""
        from rich.console import Console
        from rich.table import Table

        console = Console(file=file, highlight=False)
        for title, heads, rows, tot, left, _widths in self.tables(name_of):
            table = Table(title=title, show_footer=True, box=None, header_style="bold", footer_style="bold")
            for h, lft, foot in zip(heads, left, tot):
                table.add_column(h, justify="left" if lft else "right", footer=foot)
            for r in rows:
                table.add_row(*r)
            console.print(table)

    def as_json(self, name_of) -> dict:
        """The summary for --format=jsonl: per personality, one row per call
        in the table's order, times in nanoseconds (what the table shows in
        microseconds), with the totals."""
        out = []
        for pers in sorted(self.counts):
            counts = self.counts[pers]
            if not counts:
                continue
            rows = []
            for nr, c in counts.items():
                row = {"syscall": name_of(pers, nr), "nr": nr, "calls": c.calls, "errors": c.errors, "time_ns": c.time,
                       "avg_ns": c.time // c.calls if c.calls else 0, "min_ns": c.tmin or 0, "max_ns": c.tmax}
                if c.samples is not None:
                    mine = sorted(c.samples)
                    for col, pct in PERCENTILES.items():
                        row[f"{col}_ns"] = percentile(mine, pct)
                rows.append(row)
            key = {"time": "time_ns", "min": "min_ns", "max": "max_ns", "avg": "avg_ns", "calls": "calls", "errors": "errors"}.get(self.sortby)
            if key is not None:
                rows.sort(key=lambda r: (-r[key], r["nr"]))
            elif self.sortby == "name":
                rows.sort(key=lambda r: r["syscall"])
            else:
                rows.sort(key=lambda r: r["nr"])
            total = sum(r["time_ns"] for r in rows)
            for r in rows:
                r["time_percent"] = round(100.0 * r["time_ns"] / total, 2) if total else 0.0
            out.append({"pers": int(pers), "personality": PERS_NAMES.get(Pers(pers), str(pers)), "calls": rows,
                        "total": {"calls": sum(r["calls"] for r in rows), "errors": sum(r["errors"] for r in rows), "time_ns": total}})
        return {"tables": out, "overhead_ns": self.overhead}

    def empty(self) -> bool:
        return not any(self.counts.values())


def _secs(ns: int) -> str:
    # "%.6f" of the seconds, computed on integers so no float rounding creeps in
    us = (ns + 500) // 1000
    return f"{us // 10**6}.{us % 10**6:06d}"
