"""The delivery core: a bounded memory queue or an on-disk spool, a policy,
and the loss accounting. Transports only send; this decides what waits, what
is kept and what is dropped.

Threads, inside the sink's own process: the reader (decoding the input pipe)
calls `put`; the sender calls `peek`, sends, then `release` what the
collector took (for RELP and JetStream: what it acknowledged). A failed send
releases nothing, so the next connection resends from the first unreleased
message, in order.

- block: `put` waits for room (the reader stops reading its pipe, the writer
  of the pipe waits: lossless).
- drop: `put` drops when the queue is full; the loss is counted per session
  and a `lost` message with the count and the seq range goes out before the
  next message that fits.
- spool: every message is written ahead to the spool (append-only segment
  files under the spool directory) and sent from there; a cursor file records
  the first message not yet released, so a restart resends from it. A full
  spool (spool_bytes, or the uid's quota) drops the oldest segment or the
  newest message (`full=`), announced by `lost` messages.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections import deque

import msgpack

from ._event import lost_event

_LEN = struct.Struct("<I")
_SEG = ".seg"


class _Loss:
    """Lost records per session: count and seq range, until announced."""

    def __init__(self):
        self.by_session: dict[str, list] = {}  # key -> [count, first, last, host, rule]
        self.total = 0

    def add(self, ev: dict, n: int = 1, first: int | None = None, last: int | None = None) -> None:
        if ev.get("lost"):  # a lost message lost: its range is lost with it
            n, first, last = ev["lost"]
        first = ev["seq"] if first is None else first
        last = first + n - 1 if last is None else last
        cur = self.by_session.get(ev["session"])
        if cur is None:
            self.by_session[ev["session"]] = [n, first, last, ev.get("host", ""), ev.get("rule", "")]
        else:
            cur[0] += n
            cur[1] = min(cur[1], first)
            cur[2] = max(cur[2], last)
        self.total += n

    def take(self) -> list[dict]:
        now = time.time_ns()
        out = [lost_event(k, host, rule, n, first, last, now) for k, (n, first, last, host, rule) in self.by_session.items()]
        self.by_session.clear()
        return out


class MemoryQueue:
    """block and drop: a bounded deque of events."""

    def __init__(self, policy: str, limit: int):
        self.policy = policy
        self.limit = limit
        self.q: deque = deque()
        self.cv = threading.Condition()
        self.closed = False
        self.loss = _Loss()
        self.lost_total = 0

    def put(self, ev: dict) -> None:
        with self.cv:
            if self.policy == "block":
                while len(self.q) >= self.limit and not self.closed:
                    self.cv.wait()
            elif len(self.q) >= self.limit:
                self.loss.add(ev)
                self.lost_total += 1
                return
            if self.loss.by_session:
                self.q.extend(self.loss.take())
            self.q.append(ev)
            self.cv.notify_all()

    def close(self) -> None:
        """No more input: what was dropped is announced (beyond the bound)."""
        with self.cv:
            if self.loss.by_session:
                self.q.extend(self.loss.take())
            self.closed = True
            self.cv.notify_all()

    def peek(self, n: int, timeout: float | None = None) -> list[dict]:
        with self.cv:
            if not self.q and not self.closed:
                self.cv.wait(timeout)
            return [self.q[i] for i in range(min(n, len(self.q)))]

    def release(self, n: int) -> None:
        with self.cv:
            for _ in range(min(n, len(self.q))):
                self.q.popleft()
            self.cv.notify_all()

    def done(self) -> bool:
        with self.cv:
            return self.closed and not self.q

    def pending(self) -> int:
        return len(self.q)

    def persist(self) -> None:
        pass


class Spool:
    """spool: segments `NNNNNNNNNNNNNNNNNNNN.seg` of [u32 length][msgpack
    event] records, and `cursor` ("SEGNO OFFSET": the first unreleased one).

    `quota`: (directory, bytes): the spools under that directory (one uid's)
    may hold at most so many bytes, checked whenever a segment is started."""

    def __init__(self, directory: str, max_bytes: int, segment_bytes: int = 1 << 20, full: str = "oldest", quota: tuple[str, int] | None = None):
        self.dir = directory
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.max_bytes = max_bytes
        self.segment_bytes = min(segment_bytes, max(max_bytes // 4, 4096))
        self.full = full
        self.quota = quota
        self.cv = threading.Condition()
        self.closed = False
        self.loss = _Loss()
        self.lost_total = 0
        self.segs: list[int] = sorted(int(n[: -len(_SEG)]) for n in os.listdir(directory) if n.endswith(_SEG) and n[: -len(_SEG)].isdigit())
        self.sizes = {s: os.path.getsize(self._path(s)) for s in self.segs}
        cur = self._read_cursor()
        if cur is None or cur[0] not in self.sizes:
            cur = (self.segs[0], 0) if self.segs else (1, 0)
        self.rseg, self.roff = cur  # committed read position
        for s in [s for s in self.segs if s < self.rseg]:
            self._unlink(s)
        if not self.segs:
            self._new_segment(self.rseg)
        self.wfile = open(self._path(self.segs[-1]), "ab")
        self.rfile = None
        self.rfile_seg = None
        self._quota_at = 0.0
        self._quota_ok = True
        self.generation = 0  # bumped when segments are dropped under a batch in flight
        self._ends: list = []
        self._peek_gen = 0
        self._count_pending()

    # -- files ---------------------------------------------------------------
    def _path(self, seg: int) -> str:
        return os.path.join(self.dir, f"{seg:020d}{_SEG}")

    def _read_cursor(self):
        try:
            with open(os.path.join(self.dir, "cursor")) as f:
                a, b = f.read().split()
            return int(a), int(b)
        except (OSError, ValueError):
            return None

    def _write_cursor(self) -> None:
        tmp = os.path.join(self.dir, "cursor.tmp")
        with open(tmp, "w") as f:
            f.write(f"{self.rseg} {self.roff}\n")
        os.replace(tmp, os.path.join(self.dir, "cursor"))

    def _new_segment(self, seg: int) -> None:
        open(self._path(seg), "ab").close()
        self.segs.append(seg)
        self.sizes[seg] = 0

    def _unlink(self, seg: int) -> None:
        try:
            os.unlink(self._path(seg))
        except FileNotFoundError:
            pass
        if seg in self.sizes:
            del self.sizes[seg]
        self.segs.remove(seg)

    def _count_pending(self) -> None:
        n = 0
        for seg in self.segs:
            with open(self._path(seg), "rb") as f:
                if seg == self.rseg:
                    f.seek(self.roff)
                data = f.read()
            pos = 0
            while pos + 4 <= len(data):
                (ln,) = _LEN.unpack_from(data, pos)
                if pos + 4 + ln > len(data):
                    break
                pos += 4 + ln
                n += 1
        self.count = n

    def bytes_used(self) -> int:
        return sum(self.sizes.values()) - (self.roff if self.rseg in self.sizes else 0)

    def _quota_room(self) -> bool:
        """Room for one more segment under the uid's quota (cached 0.1 s)."""
        if self.quota is None:
            return True
        now = time.monotonic()
        if now - self._quota_at > 0.1:
            self._quota_ok = self._quota_used() + self.segment_bytes <= self.quota[1]
            self._quota_at = now
        return self._quota_ok

    def _quota_used(self) -> int:
        d, _ = self.quota
        total = 0
        for root, _dirs, files in os.walk(d):
            for n in files:
                if n.endswith(_SEG):
                    try:
                        total += os.path.getsize(os.path.join(root, n))
                    except OSError:
                        pass
        return total

    # -- writing -------------------------------------------------------------
    def put(self, ev: dict) -> None:
        body = msgpack.packb(ev, use_bin_type=True)
        with self.cv:
            if self.loss.by_session and not self._full(64 * 1024) and self._quota_room():
                for lev in self.loss.take():
                    self._append(msgpack.packb(lev, use_bin_type=True), force=True)
            while self._full(len(body) + 4):
                if self.full == "newest" or not self._drop_oldest():
                    self.loss.add(ev)
                    self.lost_total += 1
                    return
            self._append(body)
            self.cv.notify_all()

    def _full(self, size: int) -> bool:
        return self.bytes_used() + size > self.max_bytes

    def _append(self, body: bytes, force: bool = False) -> None:
        """force: a `lost` announcement, written even past the quota (it is
        small, and without it the loss would go unannounced)."""
        seg = self.segs[-1]
        if not force and self.sizes[seg] and self.sizes[seg] + len(body) + 4 > self.segment_bytes:
            self._quota_at = 0.0
            if not self._quota_room():
                self.loss.add(msgpack.unpackb(body, raw=False))
                self.lost_total += 1
                return
            self.wfile.close()
            self._new_segment(seg + 1)
            seg = seg + 1
            self.wfile = open(self._path(seg), "ab")
        self.wfile.write(_LEN.pack(len(body)) + body)
        self.wfile.flush()  # the page cache: survives our death, not the machine's
        self.sizes[seg] += len(body) + 4
        self.count += 1

    def _drop_oldest(self) -> bool:
        """Drop the oldest segment (its messages announced as lost)."""
        if len(self.segs) < 2:
            # only the write segment: start a new one so the old can go
            if not self.sizes[self.segs[-1]]:
                return False
            self.wfile.close()
            self._new_segment(self.segs[-1] + 1)
            self.wfile = open(self._path(self.segs[-1]), "ab")
        seg = self.segs[0]
        with open(self._path(seg), "rb") as f:
            f.seek(self.roff if seg == self.rseg else 0)
            data = f.read()
        pos = 0
        while pos + 4 <= len(data):
            (ln,) = _LEN.unpack_from(data, pos)
            try:
                self.loss.add(msgpack.unpackb(data[pos + 4 : pos + 4 + ln], raw=False))
            except Exception:
                pass
            self.count -= 1
            self.lost_total += 1
            pos += 4 + ln
        self._unlink(seg)
        if self.rfile_seg == seg:
            self.rfile.close()
            self.rfile = self.rfile_seg = None
        self.rseg, self.roff = self.segs[0], 0
        self.generation += 1
        self._write_cursor()
        return True

    def close(self) -> None:
        with self.cv:
            if self.loss.by_session:
                for lev in self.loss.take():
                    self._append(msgpack.packb(lev, use_bin_type=True), force=True)
            self.closed = True
            self.cv.notify_all()

    # -- reading ---------------------------------------------------------------
    def peek(self, n: int, timeout: float | None = None) -> list[dict]:
        with self.cv:
            if not self.count and not self.closed:
                self.cv.wait(timeout)
            out = []
            ends = []
            seg, off = self.rseg, self.roff
            while len(out) < n and seg in self.sizes:
                if off >= self.sizes[seg]:
                    later = [s for s in self.segs if s > seg]
                    if not later:
                        break
                    seg, off = later[0], 0
                    continue
                if self.rfile_seg != seg:
                    if self.rfile is not None:
                        self.rfile.close()
                    self.rfile = open(self._path(seg), "rb")
                    self.rfile_seg = seg
                self.rfile.seek(off)
                data = self.rfile.read(min(self.sizes[seg] - off, 1 << 20))
                pos = 0
                while len(out) < n and pos + 4 <= len(data):
                    (ln,) = _LEN.unpack_from(data, pos)
                    if pos + 4 + ln > len(data):
                        break
                    out.append(msgpack.unpackb(data[pos + 4 : pos + 4 + ln], raw=False))
                    pos += 4 + ln
                    ends.append((seg, off + pos))
                if pos == 0:
                    break  # a torn record at the end (a crash mid-write): wait for more
                off += pos
            self._ends = ends
            self._peek_gen = self.generation
            return out

    def release(self, n: int) -> None:
        if n <= 0:
            return
        with self.cv:
            if self._peek_gen != self.generation:
                # segments were dropped under the batch in flight: release only
                # what is still after the (moved) cursor
                ends = [e for e in self._ends[:n] if e[0] > self.rseg or (e[0] == self.rseg and e[1] > self.roff)]
                if not ends:
                    return
                n = len(ends)
                self._ends = ends
            seg, off = self._ends[n - 1]
            self.count -= n
            self.rseg, self.roff = seg, off
            for s in [s for s in self.segs if s < seg]:
                if self.rfile_seg == s:
                    self.rfile.close()
                    self.rfile = self.rfile_seg = None
                self._unlink(s)
            self._ends = self._ends[n:]
            self._write_cursor()
            self.cv.notify_all()

    def done(self) -> bool:
        with self.cv:
            return self.closed and self.count <= 0

    def pending(self) -> int:
        return self.count

    def persist(self) -> None:
        with self.cv:
            self._write_cursor()
            self.wfile.flush()


def make_queue(spec, spool_dir: str | None, quota: tuple[str, int] | None = None):
    if spec.policy == "spool":
        if spool_dir is None:
            raise ValueError("policy spool needs a spool directory")
        return Spool(spool_dir, spec.opt("spool_bytes"), spec.opt("segment_bytes"), spec.opt("full"), quota)
    return MemoryQueue(spec.policy, spec.opt("queue"))
