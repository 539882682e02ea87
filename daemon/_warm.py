"""Workers started ahead of need for the clients' sessions (`run`, `attach`).

Without one, a session's first step is `python -I -m tracerd.native`: a fresh
interpreter importing msgpack and the cffi loop (~45 ms here) while the
client's command waits to be seized. The daemon keeps `limits.warm_workers`
(default 1) such interpreters started and waiting on a socket for their
config (tracerd.native._idle, as the standing rules' idle workers); a session
takes one and another is started once that session runs.

Rights do not change: a warm worker is the same isolated process a spawned
one is (`-I`, cwd "/", the minimal environment), and it takes the session
owner's credentials from its config before it seizes anything
(native/_worker.py `_forked_main` -> `_become`), as a spawned worker does
before it reads its config: the seize still runs as the owner, and the
kernel is the check (docs/daemon.md).
"""

from __future__ import annotations

import logging

log = logging.getLogger("tracerd")


class WarmPool:
    def __init__(self, size: int):
        self.size = size
        self.idle: list = []

    def fill(self) -> None:
        """Start workers until `size` wait (failures logged, not raised: a
        session then spawns its own)."""
        from tracerd.native._idle import IdleWorker

        self.idle = [w for w in self.idle if w.proc.poll() is None]
        while len(self.idle) < self.size:
            try:
                self.idle.append(IdleWorker())
            except OSError as exc:
                log.warning("could not start a warm worker: %s", exc)
                break

    def take(self):
        """A started worker (callable as spawn_worker), or None."""
        while self.idle:
            w = self.idle.pop(0)
            if w.proc.poll() is None:
                return w
        return None

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close_nowait()
