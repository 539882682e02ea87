"""The client <-> daemon protocol, sans I/O (in the style of h11).

A `Connection` turns received bytes into events and events into bytes; it never
touches a socket, so the daemon (Trio) and the client library (blocking sockets)
share it and its tests need no I/O at all.

The byte stream is a sequence of units, each starting with a little-endian u16
magic that says what follows:

* a message: ``MSG_HEADER`` (magic ``MSG_MAGIC`` b"TM", version, kind 0, u32
  length) then a msgpack map of at most ``max_message`` bytes;
* a record frame: exactly a `tracerd._wire` frame (magic ``FRAME_MAGIC`` b"TR",
  24-byte header, payload). The daemon forwards a worker's frames verbatim, so a
  frame costs no re-encoding and one bytes object serves every subscriber.

Frames go through the `Connection` both ways without being parsed twice or
copied on the way, as h11's ``send_with_data_passthrough`` does for a body:
the daemon sends a `Frames` event (whole frames of one session, as the
worker's pipe delivered them and `tracerd._wire.FrameSplitter` cut them) with
``send_with_data_passthrough()``, which returns its bytes untouched; the
receiver parses each frame's header once into a `Records` event and copies
its payload once out of the receive buffer.

Every message is a map with ``"t"`` naming its type. The client speaks first
(``hello``), the daemon answers ``hello``; then the client sends requests
(``req``, each with a client-chosen ``id``) and the daemon sends replies
(``ok`` / ``err`` carrying that id), record frames, and ``end`` when a session's
stream is over. Any violation (bad magic, oversized unit, malformed msgpack, a
message that does not match its schema, a message out of order, EOF inside a
unit) raises `tracerd.ProtocolError` and puts the connection in the terminal
ERROR state; the only thing that can still be sent is one fatal `Error`
(``id`` None) telling the peer why. docs/client-protocol.md says the same in prose.

msgpack does the encoding; what is written by hand here is only the framing
and the schema check (no library does either for msgpack over a stream).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field

import msgpack

from . import _wire
from ._errors import ProtocolError

PROTOCOL_VERSION = 1
MSG_MAGIC = 0x4D54  # b"TM" little-endian
MSG_HEADER = struct.Struct("<HBBI")  # magic, version, kind (0), length
MSG_HEADER_SIZE = MSG_HEADER.size  # 8
DEFAULT_MAX_MESSAGE = 256 * 1024
MIN_MESSAGE = 4096  # a peer must accept at least this (an Error always fits)  # a fetch plan of every syscall is ~25 KiB
MAX_FRAME = _wire.FRAME_HEADER_SIZE + _wire.FRAME_MAX_PAYLOAD
MAX_PIDS = 4096  # per request
MAX_ARGV = 4096  # strings in a run request's command (for `ls` only)
MAX_STR = 4096  # bytes in any other string field


class Role(enum.Enum):
    CLIENT = "client"
    SERVER = "server"


CLIENT = Role.CLIENT
SERVER = Role.SERVER


class State(enum.Enum):
    HELLO = "hello"  # nothing exchanged yet
    WAIT_HELLO = "wait-hello"  # client: sent hello, waiting for the daemon's
    OPEN = "open"
    CLOSED = "closed"  # the peer closed cleanly (EOF between units)
    ERROR = "error"  # terminal


# --- requests and their schemas ----------------------------------------------

OPS = ("run", "attach", "list", "watch", "detach", "stop", "stats", "rules")
POLICIES = ("block", "drop")

# Error codes (a short stable word; the message is the one line for humans).
E_PROTOCOL = "protocol"  # malformed, oversized or out-of-order input (fatal)
E_VERSION = "version"  # unsupported protocol version (fatal)
E_PERM = "permission"  # policy refuses
E_NO_SESSION = "no-session"  # unknown session id
E_LIMIT = "limit"  # a per-user limit is reached
E_TRACER = "tracer"  # the worker could not do it (seize refused, pid gone)
E_CONFLICT = "conflict"  # pid already traced by a session with another filter
E_BAD_REQUEST = "bad-request"  # well-formed but not acceptable (no pidfd, ...)
E_SHUTDOWN = "shutdown"  # the daemon is stopping
E_INTERNAL = "internal"


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _u32(v) -> bool:
    return _is_int(v) and 0 <= v < 1 << 32


def _pid(v) -> bool:
    return _is_int(v) and 0 < v < 1 << 22


def _str(v) -> bool:
    return isinstance(v, str) and len(v) <= MAX_STR


def _plan(v) -> bool:
    return isinstance(v, bytes) and len(v) <= DEFAULT_MAX_MESSAGE


def _bpf(v) -> bool:
    """A classic BPF program: whole 8-byte instructions, at most BPF_MAXINSNS."""
    return isinstance(v, bytes) and 0 < len(v) <= 4096 * 8 and len(v) % 8 == 0


def _bool(v) -> bool:
    return isinstance(v, bool)


def _pids(v) -> bool:
    return isinstance(v, list) and 0 < len(v) <= MAX_PIDS and all(_pid(p) for p in v)


def _argv(v) -> bool:
    return isinstance(v, list) and len(v) <= MAX_ARGV and all(_str(a) for a in v)


def _policy(v) -> bool:
    return v in POLICIES


def _flush(v) -> bool:
    return _is_int(v) and 1 <= v <= 10_000


def _sinks(v) -> bool:
    """--sink URLs (tracerd.client.sinks checks each in full): maps of
    url, policy, name, options, meta and the names of the fds sent along."""
    keys = {"url", "policy", "name", "options", "meta", "fds"}
    return isinstance(v, list) and len(v) <= 8 and all(
        isinstance(s, dict) and set(s) <= keys and _str(s.get("url")) and s.get("policy") in ("block", "spool", "drop")
        and isinstance(s.get("options", {}), dict) and isinstance(s.get("meta", {}), dict)
        and isinstance(s.get("fds", []), list) and all(f in ("target", "ca", "cert", "key") for f in s.get("fds", []))
        for s in v)


# op -> {arg: (check, required)}
REQUEST_SCHEMA: dict[str, dict[str, tuple]] = {
    # The command is already forked by the client; its pidfd rides with this
    # message as SCM_RIGHTS (one fd). `pid` must be the pidfd's pid.
    "run": {
        "pid": (_pid, True),
        "plan": (_plan, True),
        "bpf_filter": (_str, False),  # the -e expression, shown by `ls`
        "command": (_argv, False),
        "drop": (_bool, False),
        "colocate": (_bool, False),
        # false: the command has no filter (run without -f): the worker
        # traces it alone with plain syscall stops; default true
        "follow": (_bool, False),
        "flush_ms": (_flush, False),
        "sinks": (_sinks, False),  # --sink; their fds follow the pidfd
    },
    "attach": {
        "pids": (_pids, True),
        "plan": (_plan, True),
        # --seccomp-bpf: inject this filter (the worker then never detaches:
        # the session turns pass-through until the processes exit)
        "bpf": (_bpf, False),
        "bpf_filter": (_str, False),
        "drop": (_bool, False),
        "flush_ms": (_flush, False),
        "sinks": (_sinks, False),
    },
    "list": {},
    # session: one session; rule: every session of that standing rule, the
    # present ones and each new one from its first record (one of the two)
    "watch": {"session": (_u32, False), "rule": (_str, False), "policy": (_policy, False), "sinks": (_sinks, False)},
    "detach": {"session": (_u32, True)},
    "stop": {"session": (_u32, True)},
    "stats": {},
    "rules": {},
}


# --- events -------------------------------------------------------------------


@dataclass(frozen=True)
class Hello:
    """The first unit each side sends: protocol version, largest unit, who."""

    version: int = PROTOCOL_VERSION
    max_message: int = DEFAULT_MAX_MESSAGE
    agent: str = ""


@dataclass(frozen=True)
class Request:
    """Operation `op` with its `args`, answered by a Reply or Error of the same `id`."""

    id: int
    op: str
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """Success of request `id`; `result` depends on the op."""

    id: int
    result: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Error:
    """Failure of request `id`, or of the whole connection when `id` is None
    (then it is the last thing the sender says)."""

    id: int | None
    code: str
    message: str


@dataclass(slots=True)
class Records:
    """One `tracerd._wire` frame as received: its header's fields (parsed
    once) and its payload, `count` concatenated msgpack records. Not frozen,
    unlike the other events: one is made per frame, and a frozen dataclass's
    __init__ costs three times as much."""

    session: int
    first_seq: int
    count: int
    payload: bytes


@dataclass(frozen=True, eq=False)
class Frames:
    """Pass-through (the daemon's): one or more whole frames of `session`,
    back to back, header included, exactly as the worker wrote them;
    `first_seq` is the first frame's, `count` the records of them all.
    Sent with ``send_with_data_passthrough()``, which returns `data` itself:
    the sender's splitter (`tracerd._wire.FrameSplitter`) has checked every
    header (magic, version, kind, session, at most FRAME_MAX_PAYLOAD), and
    nothing parses them again on this side."""

    session: int
    first_seq: int
    count: int
    data: bytes

    @classmethod
    def of(cls, frame: bytes) -> "Frames":
        """One frame built on this side (the daemon's LOST and ERROR
        records): its header is checked here."""
        kind, session, first_seq, count, length = _wire.unpack_header(frame)
        if kind != _wire.FrameKind.RECORDS or len(frame) != _wire.FRAME_HEADER_SIZE + length:
            raise ValueError("not one whole frame")
        return cls(session, first_seq, count, frame)


@dataclass(frozen=True)
class End:
    """A session's stream is over for this subscriber. `reason`: "exited" (every
    tracee is gone), "detached", "stopped", "worker-died", "shutdown", "kicked".
    `status`: the launched command's wait status when known, else None."""

    session: int
    reason: str
    status: int | None = None
    message: str = ""


@dataclass(frozen=True)
class ConnectionClosed:
    """The peer closed the stream cleanly (EOF between units)."""


class _NeedData:
    def __repr__(self):
        return "NEED_DATA"


NEED_DATA = _NeedData()

END_REASONS = ("exited", "detached", "stopped", "worker-died", "shutdown", "kicked", "error")


def _opt_int_or_none(v) -> bool:
    return v is None or _is_int(v)


# message type -> (event class, {field: (check, required)})
_MSG_SCHEMA: dict[str, tuple[type, dict[str, tuple]]] = {
    "hello": (Hello, {"version": (_u32, True), "max_message": (lambda v: _u32(v) and v >= MIN_MESSAGE, True), "agent": (_str, False)}),
    "req": (Request, {"id": (_u32, True), "op": (lambda v: v in OPS, True), "args": (lambda v: isinstance(v, dict), False)}),
    "ok": (Reply, {"id": (_u32, True), "result": (lambda v: isinstance(v, dict), False)}),
    "err": (Error, {"id": (lambda v: v is None or _u32(v), True), "code": (_str, True), "message": (_str, True)}),
    "end": (End, {"session": (_u32, True), "reason": (lambda v: v in END_REASONS, True), "status": (_opt_int_or_none, False), "message": (_str, False)}),
}
_TYPE_OF = {cls: t for t, (cls, _) in _MSG_SCHEMA.items()}

# who may send what once the connection is open
_SENDS = {
    Role.CLIENT: (Request,),
    Role.SERVER: (Reply, Error, Records, Frames, End),
}


def _check_fields(what: str, m: dict, schema: dict[str, tuple]) -> None:
    for k in m:
        if k not in schema:
            raise ProtocolError(f"{what}: unknown field {k!r}")
    for k, (check, required) in schema.items():
        if k not in m:
            if required:
                raise ProtocolError(f"{what}: missing field {k!r}")
            continue
        if not check(m[k]):
            raise ProtocolError(f"{what}: bad value for {k!r}")


def check_request(op: str, args: dict) -> None:
    """Raise ProtocolError unless `args` fit the schema of `op`."""
    if op not in REQUEST_SCHEMA:
        raise ProtocolError(f"unknown request {op!r}")
    _check_fields(f"request {op!r}", args, REQUEST_SCHEMA[op])


class Connection:
    """One end of a client/daemon connection.

    >>> c = Connection(CLIENT); data = c.send(Hello())   # bytes to write
    >>> c.receive_data(received); ev = c.next_event()     # Hello, Reply, ...

    ``next_event()`` returns an event, ``NEED_DATA``, or ``ConnectionClosed()``;
    it raises `ProtocolError` (and the state becomes ERROR) on any violation.
    ``receive_data(b"")`` signals EOF.
    """

    def __init__(self, our_role: Role, *, max_message: int = DEFAULT_MAX_MESSAGE):
        if our_role not in (CLIENT, SERVER):
            raise ValueError(f"bad role {our_role!r}")
        self.our_role = our_role
        self.their_role = SERVER if our_role is CLIENT else CLIENT
        self.max_message = max_message
        self.peer_max_message = DEFAULT_MAX_MESSAGE
        self.state = State.HELLO
        self.peer_hello: Hello | None = None
        self._buf = bytearray()
        self._pos = 0  # parsed up to here; compacted when data comes in
        self._eof = False
        self._fatal_sent = False
        self._late_error: str | None = None
        self.error: str | None = None  # why we are in ERROR

    # --- receiving ---------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed received bytes (b"" = EOF). Never raises: a problem found here
        is raised by the next ``next_event()``."""
        if self.state is State.ERROR or self._late_error:
            return  # ignored: the connection is dead
        if not data:
            self._eof = True
            return
        if self._eof:
            self._late_error = "data after end of stream"
            return
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data
        # never buffer more than one largest unit plus one read
        if len(self._buf) > MAX_FRAME + self.max_message + MSG_HEADER_SIZE:
            self._late_error = "peer sent more than one maximum-size unit without waiting"

    def _fail(self, why: str):
        self.state = State.ERROR
        self.error = why
        self._buf.clear()
        self._pos = 0
        raise ProtocolError(why)

    def next_event(self):
        if self.state is State.ERROR:
            raise ProtocolError(f"connection is in the ERROR state ({self.error})")
        if self.state is State.CLOSED:
            return ConnectionClosed()
        if self._late_error:
            self._fail(self._late_error)
        ev = self._parse_unit()
        if ev is NEED_DATA:
            if self._eof:
                if len(self._buf) > self._pos:
                    self._fail(f"end of stream inside a message ({len(self._buf) - self._pos} bytes left)")
                self.state = State.CLOSED
                return ConnectionClosed()
            return NEED_DATA
        try:
            self._process_received(ev)
        except ProtocolError as exc:
            self._fail(str(exc))
        return ev

    def _parse_unit(self):
        buf = self._buf
        pos = self._pos
        have = len(buf) - pos
        if have < 2:
            return NEED_DATA
        magic = buf[pos] | buf[pos + 1] << 8
        if magic == MSG_MAGIC:
            if have < MSG_HEADER_SIZE:
                return NEED_DATA
            _, version, kind, length = MSG_HEADER.unpack_from(buf, pos)
            if version != PROTOCOL_VERSION:
                self._fail(f"unsupported message version {version}")
            if kind != 0:
                self._fail(f"unknown message kind {kind}")
            if length > self.max_message:
                self._fail(f"message of {length} bytes exceeds the maximum {self.max_message}")
            if have < MSG_HEADER_SIZE + length:
                return NEED_DATA
            body = bytes(memoryview(buf)[pos + MSG_HEADER_SIZE : pos + MSG_HEADER_SIZE + length])
            self._pos = pos + MSG_HEADER_SIZE + length
            return self._decode_message(body)
        if magic == _wire.FRAME_MAGIC:
            if self.our_role is SERVER:
                self._fail("a client may not send record frames")
            if have < _wire.FRAME_HEADER_SIZE:
                return NEED_DATA
            try:  # the one parse of this header on the receiving side
                kind, session, first_seq, count, length = _wire.unpack_header(buf, pos)
            except ValueError as exc:
                self._fail(str(exc))
            if kind != _wire.FrameKind.RECORDS:
                self._fail(f"unknown frame kind {kind}")
            if have < _wire.FRAME_HEADER_SIZE + length:
                return NEED_DATA
            start = pos + _wire.FRAME_HEADER_SIZE
            # the one copy (the temporary view is gone before buf is compacted)
            payload = bytes(memoryview(buf)[start : start + length])
            self._pos = start + length
            return Records(session, first_seq, count, payload)
        self._fail(f"bad magic 0x{magic:04x}")

    def _decode_message(self, body: bytes):
        try:
            m = msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=True)
        except Exception as exc:  # msgpack raises several unrelated types
            self._fail(f"malformed message ({type(exc).__name__})")
        if not isinstance(m, dict) or not isinstance(m.get("t"), str):
            self._fail("a message must be a map with a string 't'")
        t = m.pop("t")
        if t not in _MSG_SCHEMA:
            self._fail(f"unknown message type {t!r}")
        cls, schema = _MSG_SCHEMA[t]
        try:
            _check_fields(f"message {t!r}", m, schema)
            if cls is Request:
                check_request(m["op"], m.get("args", {}))
        except ProtocolError as exc:
            self._fail(str(exc))
        return cls(**m)

    def _process_received(self, ev) -> None:
        """State transitions for an event the peer sent."""
        if isinstance(ev, Error) and ev.id is None:
            # the peer's last word: valid in any state, and terminal
            self.state = State.ERROR
            self.error = f"peer error: {ev.code}: {ev.message}"
            return
        if self.state is not State.OPEN:
            if not isinstance(ev, Hello):
                raise ProtocolError(f"{type(ev).__name__} before hello")
            if self.our_role is SERVER and self.state is not State.HELLO:
                raise ProtocolError("second hello")
            if self.our_role is CLIENT and self.state is not State.WAIT_HELLO:
                raise ProtocolError("hello from the daemon before ours")
            self.peer_hello = ev
            self.peer_max_message = ev.max_message
            if self.our_role is CLIENT:
                self.state = State.OPEN
            # the server opens when it sends its own hello
            return
        if isinstance(ev, Hello):
            raise ProtocolError("second hello")
        if not isinstance(ev, _SENDS[self.their_role]):
            raise ProtocolError(f"a {self.their_role.value} may not send {type(ev).__name__}")

    # --- sending -------------------------------------------------------------

    def send(self, ev) -> bytes:
        """Return the bytes for `ev`; raise ProtocolError if we may not send it."""
        if isinstance(ev, Error) and ev.id is None:
            if self._fatal_sent:
                raise ProtocolError("the fatal error was already sent")
            self._fatal_sent = True
            self.state = State.ERROR
            self.error = self.error or f"{ev.code}: {ev.message}"
            return self._encode(ev)
        if self.state is State.ERROR:
            raise ProtocolError(f"connection is in the ERROR state ({self.error})")
        if self.state is State.CLOSED and self.our_role is CLIENT:
            raise ProtocolError("the daemon closed the connection")
        if isinstance(ev, Hello):
            if self.our_role is CLIENT and self.state is not State.HELLO:
                raise ProtocolError("hello already sent")
            if self.our_role is SERVER and not (self.state is State.HELLO and self.peer_hello is not None):
                raise ProtocolError("the daemon says hello only in answer to the client's")
            self.state = State.WAIT_HELLO if self.our_role is CLIENT else State.OPEN
            return self._encode(ev)
        if self.state is not State.OPEN and not (self.state is State.CLOSED and self.our_role is SERVER):
            raise ProtocolError(f"cannot send {type(ev).__name__} before hello")
        if not isinstance(ev, _SENDS[self.our_role]):
            raise ProtocolError(f"a {self.our_role.value} may not send {type(ev).__name__}")
        if isinstance(ev, (Records, Frames)):
            return b"".join(self._pass(ev))
        if isinstance(ev, Request):
            check_request(ev.op, ev.args)
        return self._encode(ev)

    def send_with_data_passthrough(self, ev) -> list:
        """As ``send()``, but the bytes come as a list of pieces, and a
        frame's data is passed through untouched (h11's pattern): for
        `Frames`, ``[ev.data]`` itself; for `Records`, a header packed from
        its fields and ``ev.payload``. Write the pieces in order (joined, or
        with one sendmsg). Raises ProtocolError as ``send()`` does, and for
        a payload over FRAME_MAX_PAYLOAD."""
        if not isinstance(ev, (Records, Frames)):
            return [self.send(ev)]
        if self.state is State.ERROR:
            raise ProtocolError(f"connection is in the ERROR state ({self.error})")
        if self.state is not State.OPEN and not (self.state is State.CLOSED and self.our_role is SERVER):
            raise ProtocolError(f"cannot send {type(ev).__name__} before hello")
        if not isinstance(ev, _SENDS[self.our_role]):
            raise ProtocolError(f"a {self.our_role.value} may not send {type(ev).__name__}")
        return self._pass(ev)

    @staticmethod
    def _pass(ev) -> list:
        if isinstance(ev, Frames):
            if len(ev.data) < _wire.FRAME_HEADER_SIZE:
                raise ProtocolError("Frames without a whole frame")
            return [ev.data]
        n = len(ev.payload)
        if n > _wire.FRAME_MAX_PAYLOAD:
            raise ProtocolError(f"frame of {n} bytes exceeds the maximum {_wire.FRAME_MAX_PAYLOAD}")
        try:
            head = _wire.FRAME_HEADER.pack(_wire.FRAME_MAGIC, _wire.WIRE_VERSION, _wire.FrameKind.RECORDS, ev.session, ev.first_seq, ev.count, n)
        except Exception as exc:  # struct.error: a field out of range
            raise ProtocolError(f"cannot encode Records: {exc}") from None
        return [head, ev.payload]

    def _encode(self, ev) -> bytes:
        m = {"t": _TYPE_OF[type(ev)]}
        m.update((k, v) for k, v in vars(ev).items())
        try:
            body = msgpack.packb(m, use_bin_type=True)
        except (OverflowError, TypeError, ValueError) as exc:
            raise ProtocolError(f"cannot encode {type(ev).__name__}: {exc}") from None
        if len(body) > self.peer_max_message and not isinstance(ev, Error):
            raise ProtocolError(f"message of {len(body)} bytes exceeds the peer's maximum {self.peer_max_message}")
        return MSG_HEADER.pack(MSG_MAGIC, PROTOCOL_VERSION, 0, len(body)) + body


def error_line(exc: BaseException) -> str:
    """One line for an Error message."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
