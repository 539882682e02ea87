"""Recordings: `--format=msgpack` output that `tracectl replay` can show again
with other display options (docs/seeing.md).

A recording is a stream of msgpack objects: first a header map (what made
it: versions, machine, the options, what was fetched, clocks), then the
records exactly as on the wire (arrays), and — when it was made with -y/-P —
`fds` maps: what each process's fds named when the recorder first saw it,
so that -y can name inherited fds afterwards without /proc (whose pid may by
then be another process's).
"""

from __future__ import annotations

import os
import platform
import sys
import time

import msgpack

from tracerd import UsageError, __version__
from tracerd._wire import PLAN_VERSION, WIRE_VERSION

from ._output import Printer

MAGIC = "recording"  # header["tracerd"]
VERSION = 1  # of the recording layout (this module and docs/seeing.md)
AT_FDCWD = -100


def _pairs(s) -> list:
    return sorted([int(p), int(n)] for p, n in s)


def _comm(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().rstrip("\n") or None
    except OSError:
        return None


def _plan_fds(opts) -> frozenset:
    from ._cmd_run import plan_fds

    return plan_fds(opts)


def fd_names_wanted(opts) -> bool:
    d = opts.decode
    return bool(opts.paths) or (d is not None and bool(d.yflag or d.decode_fds))


def header_for(kind: str, opts, roots) -> dict:
    """The header map of a recording made with these options."""
    roots = [int(r) for r in (roots or ())]
    return {
        "tracerd": MAGIC,
        "version": VERSION,
        "wire": WIRE_VERSION,
        "plan": PLAN_VERSION,
        "tracectl": __version__,
        "machine": platform.machine(),
        "personality": "x86_64",  # the tracer's native one; each call record carries its own
        "kind": kind,  # run, attach or watch
        "roots": roots,
        "names": {r: n for r in roots if (n := _comm(r)) is not None} if kind != "run" else {},
        "options": {
            "argv": list(sys.argv[1:]) if sys.argv and sys.argv[0] else [],
            "exprs": list(opts.exprs),
            "paths": list(opts.path_args),
            "follow": opts.follow,
            "yflag": getattr(opts.decode, "yflag", 0) if opts.decode is not None else 0,
            "verbose": opts.verbose,
            "strsize": opts.strsize,
            "summary": opts.summary,
            "wall": opts.wall,
        },
        "fetched": {
            "trace": _pairs(opts.trace),
            "strsize": opts.plan_strsize,
            "abbrev": _pairs(opts.plan_abbrev),
            "cpu_time": bool(opts.cpu_time),
            "fd_names": fd_names_wanted(opts),
            # the --decode-fds sets the records name fds with, at the stops
            "fd_sets": sorted(_plan_fds(opts)),
        },
        "clocks": [time.clock_gettime_ns(time.CLOCK_REALTIME), time.clock_gettime_ns(time.CLOCK_BOOTTIME)],
    }


class RecordingPrinter(Printer):
    """--format=msgpack: the header, then what the Printer writes (the
    records), with an `fds` map before a process's first record when the
    recording is made with -y/-P."""

    def __init__(self, options, decoder, out, *, header: dict, **kw):
        super().__init__(options, decoder, out, **kw)
        self._bout.write(self._packer.pack(header))
        self._names = header["fetched"]["fd_names"]
        self._seen: set[int] = set()
        self._first = header["kind"] == "run"  # the first process is our own child

    def feed(self, rec: list) -> None:
        if self._names and rec[4] not in self._seen:
            self._snapshot(rec[4])
        super().feed(rec)

    def _snapshot(self, tgid: int) -> None:
        self._seen.add(tgid)
        fds = {}
        try:
            names = os.listdir(f"/proc/{tgid}/fd")
        except OSError:
            names = []
        for n in names:
            try:
                fds[int(n)] = os.readlink(f"/proc/{tgid}/fd/{n}")
            except (OSError, ValueError):
                pass
        try:
            fds[AT_FDCWD] = os.readlink(f"/proc/{tgid}/cwd")
        except OSError:
            if self._first:
                # gone already (a short command): our child started in our
                # cwd with our stdin, stdout and stderr (what the decoder assumes live)
                from ._launch import LAUNCH_FDS  # ours as they were then (run gives 0 and 1 away)

                fds = {AT_FDCWD: os.getcwd()}
                for fd in (0, 1, 2):
                    try:
                        fds[fd] = LAUNCH_FDS.get(fd) or os.readlink(f"/proc/self/fd/{fd}")
                    except OSError:
                        pass
        self._first = False
        self._bout.write(self._packer.pack({"tracerd": "fds", "tgid": tgid, "fds": fds}))


# --- reading ------------------------------------------------------------------


def open_recording(path: str):
    """(header, unpacker positioned after it); UsageError in one line when the
    file is not a recording this tracectl reads."""
    try:
        fp = open(path, "rb")
    except OSError as exc:
        raise UsageError(f"Can't open '{path}': {exc.strerror}") from None
    unpacker = msgpack.Unpacker(fp, raw=False, strict_map_key=False, max_buffer_size=64 << 20)
    try:
        header = next(unpacker)
    except StopIteration:
        raise UsageError(f"{path}: empty file, not a tracerd recording") from None
    except (ValueError, msgpack.UnpackException) as exc:
        raise UsageError(f"{path}: not a tracerd recording ({exc})") from None
    check_header(path, header)
    return header, unpacker, fp


def check_header(path: str, header) -> None:
    if not isinstance(header, dict) or header.get("tracerd") != MAGIC:
        raise UsageError(f"{path}: not a tracerd recording (no header: record with tracectl run --format=msgpack -o FILE)")
    got = (header.get("version"), header.get("wire"), header.get("plan"))
    if got != (VERSION, WIRE_VERSION, PLAN_VERSION):
        raise UsageError(
            f"{path}: recording version {got[0]} (wire {got[1]}, fetch plan {got[2]}) made by tracectl {header.get('tracectl', '?')}; "
            f"this tracectl {__version__} reads version {VERSION} (wire {WIRE_VERSION}, fetch plan {PLAN_VERSION})"
        )
    if header.get("machine") not in (None, "x86_64") or header.get("personality") != "x86_64":
        raise UsageError(f"{path}: recorded on {header.get('machine')}; this tracectl decodes x86_64 recordings")
    for key in ("kind", "roots", "fetched", "clocks", "options"):
        if key not in header:
            raise UsageError(f"{path}: damaged recording header (no '{key}')")


def refusals(header: dict, args, opts) -> str | None:
    """A display option the recording cannot serve, and what to record with
    (None: it can serve them all)."""
    f = header["fetched"]
    d = opts.decode
    if opts.follow and not header["options"].get("follow"):
        return "-f: the recording holds the traced processes themselves, not their children: record with -f"
    wanted = _plan_fds(opts) - {"path"}
    if wanted and not wanted <= set(f.get("fd_sets") or ()):
        return "-yy (socket, device and pidfd details) is looked up while the processes run: record with -yy"
    if fd_names_wanted(opts) and not f.get("fd_names"):
        what = "-P" if opts.paths and not (d and (d.yflag or d.decode_fds)) else "-y"
        return f"{what} needs the fd names seen while the processes ran: record with -y"
    if opts.summary and not opts.wall and not f.get("cpu_time"):
        return "-c counts the calls' CPU time (schedstat), which this recording did not fetch: record with -c (tracectl run -c --format=msgpack -o FILE), or replay with -c -w for wall-clock time"
    if opts.plan_strsize > f.get("strsize", 0):
        if getattr(args, "verbose", False) and opts.plan_strsize > opts.strsize:
            return "-v needs whole argument arrays, which this recording cut short: record with -v"
        if opts.read_fds or opts.write_fds:
            return "-e read=/write= dumps need whole buffers: record with the same -e read=/write="
        return f"-s {opts.strsize}: the recording holds strings of at most {f.get('strsize')} bytes: record with -s {opts.strsize}"
    recorded_abbrev = {tuple(p) for p in f.get("abbrev", ())}
    if recorded_abbrev - {(int(p), int(n)) for p, n in opts.plan_abbrev}:
        return "-v (whole environments) needs them fetched: record with -v"
    if explicit_trace(args):
        missing = {(int(p), int(n)) for p, n in opts.trace} - {tuple(p) for p in f.get("trace", ())}
        if missing:
            from tracerd.client.decode import Decoder

            dec = Decoder()
            names = sorted({dec.name(p, n) for p, n in missing})
            shown = ",".join(names[:5]) + (",..." if len(names) > 5 else "")
            return f"-e trace=: the recording did not trace {shown}: record with -e trace={','.join(names[:5])}{',...' if len(names) > 5 else ''} (or without -e trace=)"
    return None


def explicit_trace(args) -> bool:
    for e in getattr(args, "exprs", None) or ():
        key, eq, _ = e.partition("=")
        if not eq or key in ("trace", "t"):
            return True
    return False


def replay_decoder(decode_options):
    """A Decoder that names fds only from the recording (its `fds` maps and the
    recorded calls), never from /proc: a pid read now may be another process's."""
    from tracerd.client.decode import Decoder

    class ReplayDecoder(Decoder):
        def __init__(self, opts):
            super().__init__(opts)
            self.snapshots: dict[int, dict[int, str]] = {}

        def _prime(self, tid: int) -> None:
            key = self._tgid
            self._seen.add(key)
            for fd, link in self.snapshots.get(key, {}).items():
                self._fdcache.setdefault((key, int(fd)), link)

        def _readlink(self, tid: int, fd: int):
            return None

    return ReplayDecoder(decode_options)
