"""nats://HOST:PORT/SUBJECT: NATS JetStream publish, each message waiting
for the stream's ack (nats-py, asyncio-only: it runs on an event loop owned
by the sender thread of the sink's own process).

Each message is the file: sink's JSON object; the header Nats-Msg-Id is
host/session/seq, so a message resent after a lost ack is deduplicated by
the stream (within its duplicate window). `?stream=NAME` creates the stream
for SUBJECT when it does not exist yet.
"""

from __future__ import annotations

import asyncio

from ._file import json_line
from ._transport import Partial, Transport


class Nats(Transport):
    acked = True

    def __init__(self, spec, fds):
        super().__init__(spec, fds)
        self.loop = asyncio.new_event_loop()
        self.nc = None
        self.js = None

    def connect(self) -> None:
        self.loop.run_until_complete(self._connect())

    async def _connect(self) -> None:
        import nats

        host, port, subject = self.spec.target
        self.subject = subject

        async def _quiet(*_a):
            pass

        self.nc = await nats.connect(servers=[f"nats://{host}:{port}"], allow_reconnect=False, connect_timeout=self.timeout,
                                     max_reconnect_attempts=0, error_cb=_quiet, disconnected_cb=_quiet, closed_cb=_quiet)
        self.js = self.nc.jetstream(timeout=self.timeout)
        stream = self.spec.opt("stream")
        if stream:
            from nats.js.errors import NotFoundError

            try:
                await self.js.stream_info(stream)
            except NotFoundError:
                await self.js.add_stream(name=stream, subjects=[subject])

    def send(self, events: list[dict]) -> None:
        n = self.loop.run_until_complete(self._send(events))
        if n < len(events):
            raise Partial(n)

    async def _send(self, events: list[dict]) -> int:
        if self.nc is None or self.nc.is_closed:
            return 0
        pubs = [self.js.publish(self.subject, json_line(ev)[:-1], headers={"Nats-Msg-Id": f"{ev['host']}/{ev['session']}/{ev['seq']}" + ("/lost" if ev.get("lost") else "")}) for ev in events]
        res = await asyncio.gather(*pubs, return_exceptions=True)
        n = 0
        for r in res:
            if isinstance(r, BaseException):
                break
            n += 1
        return n

    def close(self) -> None:
        nc, self.nc = self.nc, None
        if nc is not None:
            try:
                self.loop.run_until_complete(asyncio.wait_for(nc.close(), 1))
            except Exception:
                pass
