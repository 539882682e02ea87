"""The sans-I/O Connection: no sockets, just bytes in and events out."""

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracerd import ProtocolError, _wire
from tracerd._protocol import (
    CLIENT,
    MSG_HEADER,
    MSG_MAGIC,
    NEED_DATA,
    PROTOCOL_VERSION,
    SERVER,
    Connection,
    ConnectionClosed,
    End,
    Error,
    Frames,
    Hello,
    Records,
    Reply,
    Request,
    State,
)

PLAN = b"TRFP" + bytes(12)


def pair():
    """A client and a server that have exchanged hellos."""
    c, s = Connection(CLIENT), Connection(SERVER)
    s.receive_data(c.send(Hello(agent="test")))
    assert s.next_event() == Hello(agent="test")
    c.receive_data(s.send(Hello(agent="tracerd")))
    assert c.next_event() == Hello(agent="tracerd")
    assert c.state is State.OPEN and s.state is State.OPEN
    return c, s


def raw_msg(m) -> bytes:
    body = msgpack.packb(m, use_bin_type=True)
    return MSG_HEADER.pack(MSG_MAGIC, PROTOCOL_VERSION, 0, len(body)) + body


def frame(session=7, first=100, n=3):
    recs = [msgpack.packb(_wire.record(_wire.Rec.EXIT, first + i, 1, 2, 2, 0)) for i in range(n)]
    return _wire.pack_frame(session, first, recs)


def records(session=7, first=100, n=3):
    """The Records event a receiver makes of frame(session, first, n)."""
    f = frame(session, first, n)
    return Records(session, first, n, f[_wire.FRAME_HEADER_SIZE :])


def test_request_reply_round_trip():
    c, s = pair()
    req = Request(1, "attach", {"pids": [123, 456], "plan": PLAN, "bpf_filter": "trace=%file", "drop": False})
    s.receive_data(c.send(req))
    assert s.next_event() == req
    assert s.next_event() is NEED_DATA
    c.receive_data(s.send(Reply(1, {"session": 3})))
    assert c.next_event() == Reply(1, {"session": 3})


def test_records_are_forwarded_verbatim():
    c, s = pair()
    f = frame()
    data = s.send(records())
    assert data == f  # the same bytes as the worker's frame
    c.receive_data(data)
    ev = c.next_event()
    assert ev == records() and (ev.session, ev.first_seq, ev.count) == (7, 100, 3)
    assert [r[1] for r in _wire.iter_records(ev.payload)] == [100, 101, 102]


def test_frames_pass_through_untouched():
    """The daemon's way (h11's send_with_data_passthrough): a run of whole
    frames goes out as the very object the splitter made, and arrives as one
    Records event per frame."""
    c, s = pair()
    data = frame(7, 100, 3) + frame(7, 103, 2)
    sp = _wire.FrameSplitter(session=7)
    sp.feed(data[:30])
    assert sp.run() is None  # no whole frame yet
    sp.feed(data[30:])
    first, count, nframes, blob = sp.run()
    assert (first, count, nframes, blob) == (100, 5, 2, data)
    ev = Frames(7, first, count, blob)
    pieces = s.send_with_data_passthrough(ev)
    assert len(pieces) == 1 and pieces[0] is blob  # not copied, not re-framed
    assert s.send(ev) == data
    c.receive_data(pieces[0])
    assert [c.next_event(), c.next_event(), c.next_event()] == [records(7, 100, 3), records(7, 103, 2), NEED_DATA]
    # Records pass through too: a header packed from the fields, the payload itself
    r = records()
    head, payload = s.send_with_data_passthrough(r)
    assert payload is r.payload and head + payload == frame()


def test_passthrough_max_frame_size():
    c, s = pair()
    big = Records(7, 0, 1, bytes(_wire.FRAME_MAX_PAYLOAD + 1))
    with pytest.raises(ProtocolError, match="exceeds the maximum"):
        s.send_with_data_passthrough(big)
    assert s.send_with_data_passthrough(Records(7, 0, 1, bytes(_wire.FRAME_MAX_PAYLOAD)))[1] is not None
    # the splitter refuses a header over the maximum before any Frames exists
    sp = _wire.FrameSplitter()
    sp.feed(_wire.FRAME_HEADER.pack(_wire.FRAME_MAGIC, _wire.WIRE_VERSION, 0, 7, 0, 1, _wire.FRAME_MAX_PAYLOAD + 1))
    with pytest.raises(ValueError, match="exceeds the maximum"):
        sp.run()
    # and the receiver, its state then terminal
    c.receive_data(_wire.FRAME_HEADER.pack(_wire.FRAME_MAGIC, _wire.WIRE_VERSION, 0, 7, 0, 1, _wire.FRAME_MAX_PAYLOAD + 1))
    with pytest.raises(ProtocolError, match="exceeds the maximum"):
        c.next_event()
    assert c.state is State.ERROR


def test_passthrough_after_error_is_refused():
    c, s = pair()
    ev = Frames.of(frame())
    s.send(Error(None, "internal", "going away"))  # our last word: ERROR from here
    assert s.state is State.ERROR
    with pytest.raises(ProtocolError, match="ERROR state"):
        s.send_with_data_passthrough(ev)
    with pytest.raises(ProtocolError, match="ERROR state"):
        s.send_with_data_passthrough(records())
    # the peer's fatal error makes it terminal as well
    c, s = pair()
    c.receive_data(s.send(Error(None, "internal", "bye")))
    c.next_event()
    with pytest.raises(ProtocolError, match="ERROR state"):
        c.send_with_data_passthrough(Request(1, "list"))


def test_passthrough_misuse():
    c, s = pair()
    with pytest.raises(ProtocolError, match="may not send Frames"):
        c.send_with_data_passthrough(Frames.of(frame()))
    with pytest.raises(ProtocolError, match="before hello"):
        Connection(SERVER).send_with_data_passthrough(Frames.of(frame()))
    with pytest.raises(ProtocolError, match="whole frame"):
        s.send_with_data_passthrough(Frames(7, 0, 0, b"TR"))
    with pytest.raises(ValueError):
        Frames.of(frame()[:-1])  # not one whole frame
    # anything else goes out as send() makes it
    assert s.send_with_data_passthrough(End(7, "exited")) == [Connection(SERVER)._encode(End(7, "exited"))]


def test_splitter_frames_and_checks():
    """Each frame once, its payload a view of a copy of the whole frame."""
    data = frame(7, 100, 3) + frame(7, 103, 2)
    sp = _wire.FrameSplitter()
    got = []
    for i in range(0, len(data), 13):
        sp.feed(data[i : i + 13])
        got += [(first, count, bytes(p), _wire.frame_of(p)) for first, count, p in sp.frames()]
    f1, f2 = frame(7, 100, 3), frame(7, 103, 2)
    assert got == [(100, 3, f1[24:], f1), (103, 2, f2[24:], f2)] and sp.pending == 0
    sp = _wire.FrameSplitter(session=8)
    sp.feed(frame(7))
    with pytest.raises(ValueError, match="session 7"):
        list(sp.frames())
    sp = _wire.FrameSplitter()
    sp.feed(b"XX" + bytes(30))
    with pytest.raises(ValueError, match="magic"):
        sp.run()


def test_byte_at_a_time_delivery():
    c, s = pair()
    stream = s.send(Reply(5, {"x": 1})) + s.send(records()) + s.send(End(7, "exited", 0))
    events = []
    for i in range(len(stream)):
        c.receive_data(stream[i : i + 1])
        while (ev := c.next_event()) is not NEED_DATA:
            events.append(ev)
    assert events == [Reply(5, {"x": 1}), records(), End(7, "exited", 0)]


def test_clean_eof_and_eof_inside_a_message():
    c, s = pair()
    s.receive_data(b"")
    assert s.next_event() == ConnectionClosed()
    c, s = pair()
    data = c.send(Request(1, "list"))
    s.receive_data(data[:-1])
    s.receive_data(b"")
    with pytest.raises(ProtocolError, match="end of stream inside"):
        s.next_event()
    assert s.state is State.ERROR


@pytest.mark.parametrize(
    "data, match",
    [
        (b"XX" + bytes(30), "bad magic"),
        (raw_msg({"t": "req", "id": 1, "op": "list"}), "before hello"),
        (raw_msg({"t": "bogus"}), "unknown message type"),
        (raw_msg([1, 2]), "must be a map"),
        (MSG_HEADER.pack(MSG_MAGIC, PROTOCOL_VERSION, 0, 3) + b"\xc1\xc1\xc1", "malformed"),
        (MSG_HEADER.pack(MSG_MAGIC, PROTOCOL_VERSION, 0, 1 << 30), "exceeds the maximum"),
        (MSG_HEADER.pack(MSG_MAGIC, 9, 0, 0), "version"),
        (frame(), "may not send record frames"),
    ],
)
def test_server_rejects(data, match):
    s = Connection(SERVER)
    with pytest.raises(ProtocolError, match=match):
        s.receive_data(data)
        s.next_event()
    assert s.state is State.ERROR
    with pytest.raises(ProtocolError):
        s.next_event()  # terminal
    # the only thing left to say is one fatal error
    out = s.send(Error(None, "protocol", "bye"))
    c = Connection(CLIENT)
    c.send(Hello())
    c.receive_data(out)
    assert c.next_event() == Error(None, "protocol", "bye")
    assert c.state is State.ERROR
    with pytest.raises(ProtocolError):
        s.send(Error(None, "protocol", "again"))


@pytest.mark.parametrize(
    "op, args, match",
    [
        ("attach", {"pids": [], "plan": PLAN}, "pids"),
        ("attach", {"pids": [1], "plan": "notbytes"}, "plan"),
        ("attach", {"pids": [1, True], "plan": PLAN}, "pids"),
        ("attach", {"pids": [1], "plan": PLAN, "evil": 1}, "unknown field"),
        ("run", {"plan": PLAN}, "missing field 'pid'"),
        ("watch", {"session": -1}, "session"),
        ("watch", {"session": 1, "policy": "lossy"}, "policy"),
        ("format_disk", {}, "bad value for 'op'"),
    ],
)
def test_schema_checked(op, args, match):
    c, s = pair()
    with pytest.raises(ProtocolError, match=match):
        s.receive_data(raw_msg({"t": "req", "id": 1, "op": op, "args": args}))
        s.next_event()
    assert s.state is State.ERROR


def test_out_of_order():
    c, s = pair()
    with pytest.raises(ProtocolError, match="second hello"):
        s.receive_data(raw_msg({"t": "hello", "version": 1, "max_message": 10000}))
        s.next_event()
    c, s = pair()
    with pytest.raises(ProtocolError, match="may not send Reply"):
        s.receive_data(raw_msg({"t": "ok", "id": 1, "result": {}}))
        s.next_event()
    c, s = pair()
    with pytest.raises(ProtocolError, match="may not send Request"):
        c.receive_data(raw_msg({"t": "req", "id": 1, "op": "list"}))
        c.next_event()


def test_local_misuse_is_refused():
    c = Connection(CLIENT)
    with pytest.raises(ProtocolError, match="before hello"):
        c.send(Request(1, "list"))
    s = Connection(SERVER)
    with pytest.raises(ProtocolError, match="answer"):
        s.send(Hello())
    c, s = pair()
    with pytest.raises(ProtocolError, match="may not send Records"):
        c.send(records())
    with pytest.raises(ProtocolError, match="unknown field"):
        c.send(Request(2, "list", {"x": 1}))


def test_oversized_message_to_a_small_peer():
    c = Connection(CLIENT)
    s = Connection(SERVER, max_message=4096)
    s.receive_data(c.send(Hello(max_message=4096)))
    s.next_event()
    c.receive_data(s.send(Hello(max_message=4096)))
    c.next_event()
    with pytest.raises(ProtocolError, match="peer's maximum"):
        c.send(Request(1, "attach", {"pids": [1], "plan": bytes(5000)}))


def test_buffering_is_bounded():
    s = Connection(SERVER)
    for _ in range(100):
        s.receive_data(bytes(1 << 16))
    assert len(s._buf) - s._pos <= (1 << 20) + (1 << 19)
    with pytest.raises(ProtocolError, match="without waiting"):
        s.next_event()
    assert s.state is State.ERROR


# --- fuzzing: nothing but ProtocolError, always ERROR or valid events ----------

VALID_EVENTS = (Hello, Request, Reply, Error, Records, End, ConnectionClosed)


def drain(conn):
    events = []
    try:
        while True:
            ev = conn.next_event()
            if ev is NEED_DATA or isinstance(ev, ConnectionClosed):
                break
            assert isinstance(ev, VALID_EVENTS)
            events.append(ev)
    except ProtocolError:
        assert conn.state is State.ERROR
    return events


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(role=st.sampled_from([CLIENT, SERVER]), chunks=st.lists(st.binary(max_size=64), max_size=8), eof=st.booleans())
def test_fuzz_random_bytes(role, chunks, eof):
    conn = Connection(role)
    if role is CLIENT:
        conn.send(Hello())
    for ch in chunks:
        conn.receive_data(ch)  # b"" is EOF; data after it is the peer's error
        drain(conn)
    if eof:
        conn.receive_data(b"")
        drain(conn)
    assert conn.state in (State.ERROR, State.CLOSED, State.HELLO, State.WAIT_HELLO, State.OPEN)


def _valid_client_stream():
    c = Connection(CLIENT)
    data = c.send(Hello())
    s = Connection(SERVER)
    s.receive_data(data)
    s.next_event()
    c.receive_data(s.send(Hello()))
    c.next_event()
    data += c.send(Request(1, "attach", {"pids": [1, 2], "plan": PLAN}))
    data += c.send(Request(2, "watch", {"session": 4, "policy": "drop"}))
    data += c.send(Request(3, "list"))
    return data


VALID_CLIENT_STREAM = _valid_client_stream()


@settings(max_examples=400, deadline=None)
@given(
    cut=st.integers(0, len(VALID_CLIENT_STREAM)),
    flips=st.lists(st.tuples(st.integers(0, len(VALID_CLIENT_STREAM) - 1), st.integers(0, 255)), max_size=3),
    split=st.integers(1, 64),
)
def test_fuzz_truncated_and_mutated_valid_stream(cut, flips, split):
    data = bytearray(VALID_CLIENT_STREAM)
    for pos, val in flips:
        data[pos] = val
    data = bytes(data[:cut])
    s = Connection(SERVER)
    events = []
    for i in range(0, len(data), split):
        s.receive_data(data[i : i + split])
        events += drain(s)
        if s.state is State.ERROR:
            break
        if isinstance(events[-1:] and events[-1], Hello) and s.state is State.HELLO:
            s.send(Hello())
    s.receive_data(b"")
    events += drain(s)
    if not flips and s.state is not State.ERROR:
        # an unmutated prefix yields a prefix of the valid events
        assert [type(e) for e in events] == [Hello, Request, Request, Request][: len(events)]
    if not flips and cut == len(VALID_CLIENT_STREAM):
        assert len(events) == 4 and s.state is State.CLOSED
    if not flips and cut < len(VALID_CLIENT_STREAM) and s.state is not State.ERROR:
        # EOF inside a unit is an error; at a unit boundary it is a clean close
        assert s.state is State.CLOSED


# --- structured fuzzing: well-framed messages with random msgpack content -------

msgpack_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=20) | st.binary(max_size=20) | st.floats(allow_nan=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
message_maps = st.fixed_dictionaries(
    {"t": st.sampled_from(["hello", "req", "ok", "err", "end", "bogus"])},
    optional={
        "id": msgpack_values | st.integers(0, 10),
        "op": st.sampled_from(["run", "attach", "list", "watch", "detach", "stop", "stats", "x"]) | msgpack_values,
        "args": st.dictionaries(st.sampled_from(["pids", "plan", "session", "policy", "pid", "drop", "zzz"]), msgpack_values, max_size=3),
        "version": msgpack_values | st.just(1),
        "max_message": msgpack_values | st.just(65536),
        "code": msgpack_values,
        "message": msgpack_values,
        "session": msgpack_values,
        "reason": msgpack_values | st.sampled_from(["exited", "detached"]),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(role=st.sampled_from([CLIENT, SERVER]), msgs=st.lists(message_maps, min_size=1, max_size=5))
def test_fuzz_well_framed_random_messages(role, msgs):
    conn = Connection(role)
    if role is CLIENT:
        conn.send(Hello())
    for m in msgs:
        conn.receive_data(raw_msg(m))
    events = drain(conn)
    for ev in events:  # whatever was accepted is a schema-valid event
        if isinstance(ev, Request):
            assert ev.op in ("run", "attach", "list", "watch", "detach", "stop", "stats") and isinstance(ev.args, dict)
        if isinstance(ev, Hello):
            assert isinstance(ev.version, int) and ev.max_message >= 4096


requests = st.one_of(
    st.builds(lambda pids, drop: Request(1, "attach", {"pids": pids, "plan": PLAN, "drop": drop}), st.lists(st.integers(1, 4_000_000), min_size=1, max_size=20), st.booleans()),
    st.builds(lambda s, p: Request(2, "watch", {"session": s, "policy": p}), st.integers(0, 2**32 - 1), st.sampled_from(["drop", "block"])),
    st.builds(lambda pid, argv: Request(3, "run", {"pid": pid, "plan": PLAN, "command": argv}), st.integers(1, 4_000_000), st.lists(st.text(max_size=30), max_size=5)),
    st.just(Request(4, "list")),
)
server_events = st.one_of(
    st.builds(Reply, st.integers(0, 2**32 - 1), st.dictionaries(st.text(max_size=5), st.integers(-(2**63), 2**64 - 1), max_size=3)),
    st.builds(Error, st.integers(0, 100), st.text(max_size=10), st.text(max_size=50)),
    st.builds(End, st.integers(0, 2**32 - 1), st.sampled_from(["exited", "detached", "stopped", "worker-died"]), st.none() | st.integers(0, 65535), st.text(max_size=20)),
    st.builds(records, st.integers(0, 2**32 - 1), st.integers(0, 2**40), st.integers(0, 5)),
    st.builds(lambda s, f, n: Frames.of(frame(s, f, n)), st.integers(0, 2**32 - 1), st.integers(0, 2**40), st.integers(0, 5)),
)


@settings(max_examples=100, deadline=None)
@given(reqs=st.lists(requests, max_size=6), evs=st.lists(server_events, max_size=6), split=st.integers(1, 97))
def test_round_trip_any_split(reqs, evs, split):
    c, s = pair()
    data = b"".join(c.send(r) for r in reqs)
    got = []
    for i in range(0, len(data), split):
        s.receive_data(data[i : i + split])
        while (ev := s.next_event()) is not NEED_DATA:
            got.append(ev)
    assert got == reqs
    data = b"".join(p for e in evs for p in s.send_with_data_passthrough(e))
    assert data == b"".join(s.send(e) for e in evs)
    got = []
    for i in range(0, len(data), split):
        c.receive_data(data[i : i + split])
        while (ev := c.next_event()) is not NEED_DATA:
            got.append(ev)
    # a run of frames arrives as Records (here: one frame each)
    assert got == [records(e.session, e.first_seq, e.count) if isinstance(e, Frames) else e for e in evs]


def test_unencodable_values_are_a_local_protocol_error():
    c, s = pair()
    with pytest.raises(ProtocolError, match="cannot encode"):
        s.send(Reply(1, {"x": 2**70}))
    with pytest.raises(ProtocolError, match="cannot encode"):
        s.send(Reply(1, {"x": object()}))
