"""Random, truncated, oversized and out-of-order input against a live daemon:
that connection ends with an error, nobody else notices."""

import os
import random
import socket
import struct

import msgpack
import pytest

from tracerd import _protocol as P
from tracerd import _wire
from tracerd.client import _remote


def raw(daemon):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(daemon.path)
    return s


def read_all(s) -> bytes:
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def fatal_of(data: bytes):
    c = P.Connection(P.CLIENT)
    c.send(P.Hello())
    c.receive_data(data)
    c.receive_data(b"")
    evs = []
    try:
        while True:
            ev = c.next_event()
            if ev is P.NEED_DATA or isinstance(ev, P.ConnectionClosed):
                break
            evs.append(ev)
    except Exception:
        pass
    return [e for e in evs if isinstance(e, P.Error) and e.id is None]


def msg(m) -> bytes:
    body = msgpack.packb(m, use_bin_type=True)
    return P.MSG_HEADER.pack(P.MSG_MAGIC, P.PROTOCOL_VERSION, 0, len(body)) + body


HELLO = msg({"t": "hello", "version": 1, "max_message": 65536})


@pytest.mark.parametrize(
    "data, why",
    [
        (b"GET / HTTP/1.1\r\n\r\n", "bad magic"),
        (msg({"t": "req", "id": 1, "op": "list"}), "Request before hello"),
        (HELLO + msg({"t": "req", "id": 1, "op": "attach", "args": {"pids": "all"}}), "bad value for 'pids'"),
        (HELLO + P.MSG_HEADER.pack(P.MSG_MAGIC, 1, 0, 1 << 30), "exceeds the maximum"),
        (HELLO + _wire.pack_frame(1, 0, []), "may not send record frames"),
        (HELLO + HELLO, "second hello"),
        (msg({"t": "hello", "version": 99, "max_message": 65536}), "unsupported protocol version 99"),
        (msg({"t": "hello", "version": 1, "max_message": 1}), "bad value for 'max_message'"),
    ],
)
def test_bad_input_closes_that_connection_with_an_error(daemon, data, why):
    bystander = _remote.Client(daemon.path)
    s = raw(daemon)
    s.sendall(data)
    got = fatal_of(read_all(s))  # the daemon answers, then closes
    s.close()
    assert len(got) == 1 and why in got[0].message
    assert got[0].code in (P.E_PROTOCOL, P.E_VERSION)
    assert bystander.request("list") == {"sessions": []}
    bystander.close()


def test_truncated_message_then_eof(daemon):
    s = raw(daemon)
    data = HELLO + msg({"t": "req", "id": 1, "op": "list"})
    s.sendall(data[:-3])
    s.shutdown(socket.SHUT_WR)
    got = read_all(s)
    s.close()
    assert _remote.Client(daemon.path).request("stats")["connections"] == 1


def test_random_garbage_many_connections(daemon):
    rng = random.Random(1234)
    for i in range(40):
        s = raw(daemon)
        n = rng.randrange(1, 2000)
        junk = bytes(rng.randrange(256) for _ in range(n))
        if i % 2:
            junk = HELLO + junk  # past the hello, into the request parser
        if i % 5 == 0:
            junk = junk[: rng.randrange(len(junk))]
        try:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            read_all(s)
        except OSError:
            pass  # the daemon may close before reading it all
        s.close()
    with _remote.Client(daemon.path) as c:
        st = c.request("stats")
        assert st["connections"] == 1 and st["sessions"] == 0
    assert daemon.proc.poll() is None


def test_stray_fds_are_closed(daemon):
    """fds sent with a message that takes none are closed by the daemon."""
    def daemon_fds():
        return len(os.listdir(f"/proc/{daemon.proc.pid}/fd"))

    c = _remote.Client(daemon.path)
    c.request("list")
    before = daemon_fds()
    r, w = os.pipe()
    for _ in range(5):
        c._send(P.Request(c._next_id + 1, "list", {}), fds=[r, w])
        c._next_id += 1
        c._next()
    os.close(r)
    os.close(w)
    assert daemon_fds() == before
    c.close()
