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


def test_struct_tr_config_is_generated_from_the_config_table():
    """The C loop's struct is the table's (native/_config.py): the built
    module's `struct tr_config` has a member for every key the C side reads,
    of the table's C form, and no other; the header the C files include is
    what the table makes now (a stale build fails here, not in a session)."""
    from tracerd.native import _build, _config
    from tracerd.native._worker import _native

    ffi = _native().ffi
    got = {name: f.type.cname for name, f in ffi.typeof("struct tr_config").fields}
    want = {}
    scalar = {"int": "int", "bool": "int", "u32": "unsigned int", "size": "size_t"}
    for key, (_default, form, _doc) in _config.FIELDS.items():
        if form is None:
            continue
        if form in scalar or form.startswith("enum:"):
            want[key] = scalar.get(form, "int")
        else:
            elem = {"bytes": "unsigned char", "int[]": "int", "pers_nr[]": "uint64_t"}[form]
            want[key] = f"{elem} *"
            want[key + "_len"] = "size_t" if form == "bytes" else "int"
    assert {k: v.replace("const ", "") for k, v in got.items()} == want
    assert set(_config.FIELDS) == KEYS
    header = Path(_build.__file__).with_name("tr_config.h")
    assert header.read_text() == _build.config_header()
    lib = _native().lib
    for key in ("mode", "wait"):
        assert [getattr(lib, f"TR_{key.upper()}_{v.upper()}") for v in _config.choices(key)] == list(range(len(_config.choices(key))))


def test_fill_copies_every_key_by_its_form():
    from tracerd.native._config import fill
    from tracerd.native._worker import _native

    ffi = _native().ffi
    cfg = WorkerConfig(mode="attach", pids=[7, 8], plan=b"PLAN", session=(1 << 32) + 5, wait="poll",
                       entry_lines=[(1, 3)], inject_bpf=b"\0" * 8, no_follow=True, ack_fd=-1, out_fd=4)
    c, keep = fill(ffi, cfg)
    lib = _native().lib
    assert (c.mode, c.wait) == (lib.TR_MODE_ATTACH, lib.TR_WAIT_POLL)
    assert list(c.pids[0:c.pids_len]) == [7, 8]
    assert ffi.buffer(c.plan, c.plan_len)[:] == b"PLAN"
    assert c.session == 5 and c.out_fd == 4 and c.ack_fd == -1 and c.no_follow == 1
    assert list(c.entry_lines[0:c.entry_lines_len]) == [(1 << 32) | 3]
    assert c.inject_bpf_len == 8 and c.flush_ms == 20 and c.batch_bytes == 65536
