"""The worker channel (native/_channel.py) without a worker: the config's
one home, and the pipes a Channel hands over. No socket, no process."""

import os
import re
from pathlib import Path

import pytest

from tracerd import TracerError, _wire
from tracerd.native._channel import FD_KEYS, KEYS, Channel, WorkerConfig, ready_error

DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
SPAWN_ONLY = {"creds", "memory_limit"}  # a spawned worker's, beside the config


def test_config_keys_are_the_documented_ones():
    """docs/protocol.md's "Worker config" table names exactly WorkerConfig's
    keys (a few internal ones aside: sync mode's)."""
    text = DOCS.read_text()
    section = text[text.index("## Worker config") :]
    section = section[: section.index("\n## ", 4)]
    documented = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
    internal = {"ack_fd", "entry_lines"}  # sync mode: tracectl's own (docs/cli.md)
    assert documented == KEYS - internal
    assert not SPAWN_ONLY & KEYS


def test_defaults_and_wire_round_trip():
    c = WorkerConfig(pids=[42], plan=b"TRFP")
    assert (c.mode, c.flush_ms, c.batch_bytes, c.linger_us, c.wait, c.session) == ("launch", 20, 65536, 10000, "blocking", 0)
    assert WorkerConfig.from_wire(c.to_wire()) == c
    assert set(c.to_wire()) == KEYS
    with pytest.raises(TracerError, match="unknown worker config key 'bogus'"):
        WorkerConfig.from_wire({**c.to_wire(), "bogus": 1})
    for bad, match in (({"mode": "x"}, "mode"), ({"pids": []}, "no pid"), ({"pids": [1, 2]}, "exactly one"), ({"wait": "spin"}, "wait mode")):
        with pytest.raises(TracerError, match=match):
            WorkerConfig.from_wire({**c.to_wire(), **bad})


@pytest.mark.parametrize("msg, err", [(b"\0", None), (b"Eattach: no", "attach: no"), (b"", "the tracer exited before it was ready"), (b"E", "the tracer failed")])
def test_ready_handshake(msg, err):
    assert ready_error(msg) == err


def test_channel_pipes_and_start():
    got = {}

    def starter(config, pass_fds):
        got["config"] = config
        got["fds"] = {k: os.dup(config[k]) for k in FD_KEYS if config[k] >= 0}
        assert sorted(pass_fds) == sorted(config[k] for k in FD_KEYS if config[k] >= 0)
        return "proc"

    mine = set(os.listdir("/proc/self/fd"))
    ch = Channel(WorkerConfig(pids=[1]), stats=True, ack=True)
    assert ch.start(starter, {"memory_limit": 1}) == "proc"
    theirs = got["fds"]
    try:
        assert got["config"]["memory_limit"] == 1 and got["config"]["passthru_fd"] == -1
        os.write(theirs["ready_fd"], b"\0")
        os.close(theirs.pop("ready_fd"))
        ch.read_ready()
        assert ch.control(_wire.Ctl.FLUSH)
        assert _wire.CONTROL.unpack(os.read(theirs["ctl_fd"], 8)) == (_wire.Ctl.FLUSH, 0)
        ch.ack(7)
        assert os.read(theirs["ack_fd"], 8) == (7).to_bytes(8, "little")
        frame = _wire.pack_frame(0, 0, [b"\x91\x01"])
        os.write(theirs["out_fd"], frame)
        assert os.read(ch.out_fd, 100) == frame
        ch.close_ctl()
        assert os.read(theirs["ctl_fd"], 8) == b""  # EOF: the consumer is gone
    finally:
        ch.close()
        for fd in theirs.values():
            os.close(fd)
    assert set(os.listdir("/proc/self/fd")) == mine  # nothing left open


def test_channel_failed_start_closes_everything():
    mine = set(os.listdir("/proc/self/fd"))

    def starter(config, pass_fds):
        raise OSError("no")

    ch = Channel(WorkerConfig(pids=[1]), stats=True, passthru=True)
    with pytest.raises(OSError):
        ch.start(starter)
    assert set(os.listdir("/proc/self/fd")) == mine
    ch = Channel(WorkerConfig(pids=[1]))
    os.close(ch._theirs[2])  # the worker's ready end: as if it died at once
    ch._theirs.pop(2)
    ch.start(lambda config, pass_fds: None)
    with pytest.raises(TracerError, match="exited before it was ready"):
        ch.read_ready()
    ch.close()
    assert set(os.listdir("/proc/self/fd")) == mine
