"""file:PATH: JSON lines (the --format=jsonl object plus host, session, seq,
rule), rotated by size: `?max_bytes=N&keep=K` renames PATH to PATH.1 (PATH.1
to PATH.2, ...) when the next line would pass N bytes, keeping K old files.
A file opened by a client and passed as an fd is appended to and never
rotated (the process does not know, and may not use, its path)."""

from __future__ import annotations

import json
import os

from ._transport import Transport

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def json_line(ev: dict) -> bytes:
    return (_encode(ev["json"]) + "\n").encode("utf-8", "backslashreplace")


class File(Transport):
    acked = True  # write(2) to a file: done when it returns

    def __init__(self, spec, fds):
        super().__init__(spec, fds)
        self.fd = -1
        self.size = 0
        self.max_bytes = spec.opt("max_bytes") if "target" not in self.fds else None
        self.keep = spec.opt("keep")

    def connect(self) -> None:
        if "target" in self.fds:
            self.fd = os.dup(self.fds["target"])
        else:
            self.fd = os.open(self.spec.target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        self.size = os.fstat(self.fd).st_size

    def _rotate(self) -> None:
        path = self.spec.target
        os.close(self.fd)
        for i in range(self.keep - 1, 0, -1):
            try:
                os.replace(f"{path}.{i}", f"{path}.{i + 1}")
            except FileNotFoundError:
                pass
        os.replace(path, f"{path}.1")
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        self.size = 0

    def send(self, events: list[dict]) -> None:
        out = []
        n = 0
        for ev in events:
            line = json_line(ev)
            if self.max_bytes and self.size + n + len(line) > self.max_bytes and (self.size + n) > 0:
                self._write(b"".join(out))
                out, n = [], 0
                self._rotate()
            out.append(line)
            n += len(line)
        self._write(b"".join(out))

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            k = os.write(self.fd, view)
            view = view[k:]
        self.size += len(data)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
