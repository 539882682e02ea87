"""What every transport offers the sender (`Sender`, client/sinks/_worker.py)."""

from __future__ import annotations


class Partial(OSError):
    """A send failed after the collector had acknowledged the first `n`
    messages of the batch (those are released, the rest resent)."""

    def __init__(self, n: int):
        super().__init__(f"connection lost after {n} acknowledged messages")
        self.n = n


class Transport:
    """connect() / send(events) / close(). send() raises OSError (or Partial)
    when the collector is gone; it returns once the batch is written (or,
    when `acked`, acknowledged by the collector)."""

    acked = False

    def __init__(self, spec, fds: dict | None = None):
        self.spec = spec
        self.fds = fds or {}
        self.timeout = spec.opt("timeout_ms") / 1000
        self.sock = None

    def connect(self) -> None:
        raise NotImplementedError

    def send(self, events: list[dict]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
