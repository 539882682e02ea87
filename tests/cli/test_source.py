"""Which tracer `run`/`attach` use (docs/cli.md's rules), without running one."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest

from tracerd import TracerdError
from tracerd.client._source import choose


def args(**kw):
    return SimpleNamespace(embedded=kw.get("embedded", False), socket=kw.get("socket"))


def test_embedded_flag_wins(monkeypatch):
    monkeypatch.setenv("TRACERD_SOCKET", "/nonexistent/x.sock")
    assert choose(args(embedded=True)) == ("embedded", None)


def test_named_socket_that_nobody_answers_is_an_error(monkeypatch, tmp_path):
    monkeypatch.delenv("TRACERD_SOCKET", raising=False)
    with pytest.raises(TracerdError, match="cannot connect to tracerd at .*x.sock"):
        choose(args(socket=str(tmp_path / "x.sock")))
    monkeypatch.setenv("TRACERD_SOCKET", str(tmp_path / "y.sock"))
    with pytest.raises(TracerdError, match="y.sock"):
        choose(args())


def test_named_socket_that_answers(monkeypatch, tmp_path):
    monkeypatch.delenv("TRACERD_SOCKET", raising=False)
    path = str(tmp_path / "d.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    try:
        assert choose(args(socket=path)) == ("daemon", path)
    finally:
        srv.close()


def test_default_falls_back_to_embedded(monkeypatch):
    import os

    monkeypatch.delenv("TRACERD_SOCKET", raising=False)
    if os.path.exists("/run/tracerd/tracerd.sock"):
        pytest.skip("a daemon socket exists on this machine")
    assert choose(args()) == ("embedded", None)


def test_a_plan_too_big_for_the_daemon_is_refused_before_connecting():
    """Thousands of -P paths make a plan larger than one request may be:
    the client says so (and what to do), instead of the daemon's generic
    'bad value'."""
    from tracerd import UsageError
    from tracerd.client._remote import RemoteAttach

    with pytest.raises(UsageError, match=r"the fetch plan is 300000 bytes, more than the daemon takes .*--embedded"):
        RemoteAttach("/nonexistent/socket", [1], plan=b"\0" * 300_000)
