"""Workers started ahead of need: ``python -m tracerd.native._idle FD``
imports the native loop and waits on the socket FD for its config and fds
(the protocol of ``fork_worker``). The daemon keeps a few for its standing
rules, so a caught exec never waits for an interpreter to start, and the
daemon never waits on an exec of its own while a process is held.
"""

from __future__ import annotations

import socket
import sys

from ._worker import SPAWN_ENV, ForkedWorker, _forked_main


class IdleWorker:
    """A spawned worker waiting for its config. Call it like spawn_worker:
    ``proc = idle(config, pass_fds)`` returns the subprocess.Popen."""

    def __init__(self):
        # here, in the daemon: the idle worker itself runs this module too,
        # and subprocess (threading, contextlib, locale: ~5 ms) is not its
        import subprocess

        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen(
                # isolated as spawn_worker's: -I, cwd "/", a minimal environment
                [sys.executable, "-I", "-m", "tracerd.native._idle", str(child.fileno())],
                stdin=subprocess.DEVNULL,
                pass_fds=(child.fileno(),),
                close_fds=True,
                cwd="/",
                env=dict(SPAWN_ENV),
            )
        finally:
            child.close()
        self._fw = ForkedWorker(self.proc.pid, parent)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __call__(self, config: dict, pass_fds=()) -> subprocess.Popen:
        self._fw.start(config, pass_fds)
        return self.proc

    def close_nowait(self) -> None:
        """Not needed: it exits quietly at EOF before a config (and is reaped
        by subprocess's own clean-up of finished children)."""
        if self._fw._sock is not None:
            self._fw._sock.close()
            self._fw._sock = None


def main() -> int:
    return _forked_main(socket.socket(fileno=int(sys.argv[1])))


if __name__ == "__main__":
    sys.exit(main())
