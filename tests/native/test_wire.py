"""The C side writes what tracerd._wire defines: constants, the msgpack
writer (round trip against msgpack, with hypothesis), and the golden vector
tests/vectors/records_all.bin (every record type, written by the loop's own
emitters with fixed times)."""

import os

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracerd import _wire
from tracerd._wire import Rec

native = pytest.importorskip("tracerd.native._tracer")
ffi, lib = native.ffi, native.lib

VECTORS = os.path.join(os.path.dirname(__file__), "..", "vectors")


def test_wire_constants_match():
    assert lib.TR_WIRE_VERSION == _wire.WIRE_VERSION
    assert lib.TR_FRAME_MAGIC == _wire.FRAME_MAGIC
    assert lib.TR_FRAME_HEADER_SIZE == _wire.FRAME_HEADER_SIZE
    assert lib.TR_FRAME_MAX_PAYLOAD == _wire.FRAME_MAX_PAYLOAD
    assert lib.TR_PLAN_VERSION == _wire.PLAN_VERSION
    assert (lib.TR_LEN_RET, lib.TR_LEN_FIXED, lib.TR_LEN_NONE) == (_wire.LEN_RET, _wire.LEN_FIXED, _wire.LEN_NONE)
    assert (lib.TR_LEN_IOC, lib.TR_IOC_UNSIZED, lib.TR_IOC_TRAILER) == (_wire.LEN_IOC, _wire.IOC_UNSIZED, _wire.IOC_TRAILER)
    assert lib.TR_STRARR_COUNT_MAX == _wire.STRARR_COUNT_MAX
    assert lib.TR_MEM_MAX == _wire.MEM_MAX
    assert (lib.TR_MSG_NAME_MAX, lib.TR_MSG_CONTROL_MAX, lib.TR_IOV_DATA_MAX, lib.TR_MMSG_MAX) == (_wire.MSG_NAME_MAX, _wire.MSG_CONTROL_MAX, _wire.IOV_DATA_MAX, _wire.MMSG_MAX)
    assert (lib.TR_MSGHDR_CTL_FULL, lib.TR_MSG_CONTROL_VMAX) == (_wire.MSGHDR_CTL_FULL, _wire.MSG_CONTROL_VMAX)
    assert lib.TR_X32_SYSCALL_BIT == _wire.X32_SYSCALL_BIT
    assert (lib.TR_FD_SLOT, lib.TR_FD_RET, lib.TR_FD_ARRAY_MAX, lib.TR_FD_STRIDE_MAX) == (_wire.FD_SLOT, _wire.FD_RET, _wire.FD_ARRAY_MAX, _wire.FD_STRIDE_MAX)
    assert (lib.TR_LEN_FIELD, lib.TR_DEREF_SLOT, lib.TR_FD_AT_SLOT, lib.TR_DEREF_PTR64, lib.TR_DEREF_LEN_SHIFT, lib.TR_DEREF_ELEM_SHIFT,
            lib.TR_DEREF_MAX_BYTES, lib.TR_COND_MAX, lib.TR_FD_AT_OFF_MAX) == (
        _wire.LEN_FIELD, _wire.DEREF_SLOT, _wire.FD_AT_SLOT, _wire.DEREF_PTR64, _wire.DEREF_LEN_SHIFT, _wire.DEREF_ELEM_SHIFT,
        _wire.DEREF_MAX_BYTES, _wire.COND_MAX, _wire.FD_AT_OFF_MAX)
    assert (lib.TR_OP_DEREF, lib.TR_OP_FD_AT, lib.TR_OP_COND) == (_wire.Op.DEREF, _wire.Op.FD_AT, _wire.Op.COND)
    assert (lib.TR_FD_AT_PTR, lib.TR_FD_AT_PTR64) == (_wire.FD_AT_PTR, _wire.FD_AT_PTR64)
    assert {m.name: m.value for m in Rec} == {n[len("TR_REC_"):]: getattr(lib, n) for n in dir(lib) if n.startswith("TR_REC_")}
    assert {m.name: m.value for m in _wire.Pers} == {n[len("TR_PERS_"):]: getattr(lib, n) for n in dir(lib) if n.startswith("TR_PERS_")}
    assert {m.name: m.value for m in _wire.NewTask} == {n[len("TR_NEW_"):]: getattr(lib, n) for n in dir(lib) if n.startswith("TR_NEW_")}
    assert {m.name: m.value for m in _wire.SysFlag} == {n[len("TR_SF_"):]: getattr(lib, n) for n in dir(lib) if n.startswith("TR_SF_")}
    assert {m.name: m.value for m in _wire.Op} == {n[len("TR_OP_"):]: getattr(lib, n) for n in dir(lib) if n.startswith("TR_OP_")}
    assert {m.name: m.value for m in _wire.EntryFlag} == {n[len("TR_EF_"):]: getattr(lib, n) for n in dir(lib) if n.startswith("TR_EF_")}
    assert {m.name: m.value for m in _wire.PlanFlag} == {n[len("TR_PF_"):]: getattr(lib, n) for n in dir(lib) if n.startswith("TR_PF_")}
    assert {m.name: m.value for m in _wire.Ctl} == {n[len("TR_CTL_"):]: getattr(lib, n) for n in dir(lib) if n.startswith("TR_CTL_")}
    # the record lengths the C emitters use (5 common + the type's fields)
    assert {t: len(f) for t, f in _wire.FIELDS.items()} == {
        Rec.SYSCALL: 14, Rec.SYSCALL_ENTRY: 10, Rec.SYSCALL_EXIT: 13, Rec.EXEC: 6, Rec.NEWTASK: 7,
        Rec.SIGNAL: 7, Rec.EXIT: 6, Rec.KILLED: 7, Rec.LOST: 6, Rec.ERROR: 7, Rec.ATTACH: 5,
        Rec.DETACH: 5, Rec.STOPPED: 6}


def _encode(v, b):
    if v is None:
        lib.tr_mp_nil(b)
    elif isinstance(v, bool):
        lib.tr_mp_bool(b, v)
    elif isinstance(v, int):
        if v < 0:
            lib.tr_mp_int(b, v)
        else:
            lib.tr_mp_uint(b, v)
    elif isinstance(v, bytes):
        lib.tr_mp_bin(b, v, len(v))
    elif isinstance(v, str):
        e = v.encode()
        lib.tr_mp_str(b, e, len(e))
    elif isinstance(v, list):
        lib.tr_mp_array(b, len(v))
        for x in v:
            _encode(x, b)
    elif isinstance(v, dict):
        lib.tr_mp_map(b, len(v))
        for k, x in v.items():
            _encode(k, b)
            _encode(x, b)


def c_pack(v, cap=1 << 20):
    mem = ffi.new("unsigned char[]", cap)
    b = ffi.new("struct tr_buf *", {"p": mem, "len": 0, "cap": cap, "overflow": 0})
    _encode(v, b)
    assert not b.overflow
    return bytes(ffi.buffer(mem, b.len))


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.binary(max_size=70000)
    | st.text(max_size=300)
)
values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=20) | st.dictionaries(st.text(max_size=8), kids, max_size=20),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_writer_round_trip(v):
    data = c_pack(v)
    assert msgpack.unpackb(data, raw=False, strict_map_key=False) == v
    # the smallest encoding, byte for byte what msgpack writes
    assert data == msgpack.packb(v, use_bin_type=True)


@given(st.integers(min_value=0, max_value=70000).map(lambda n: [None] * n))
@settings(max_examples=10, deadline=None)
def test_writer_array_sizes(v):
    assert msgpack.unpackb(c_pack(v)) == v


def test_writer_overflow_is_flagged():
    mem = ffi.new("unsigned char[]", 4)
    b = ffi.new("struct tr_buf *", {"p": mem, "len": 0, "cap": 4, "overflow": 0})
    lib.tr_mp_bin(b, b"hello", 5)
    assert b.overflow and b.len <= 4


def _golden():
    with open(os.path.join(VECTORS, "records_all.bin"), "rb") as f:
        return f.read()


def test_golden_vector_is_what_the_loop_writes():
    buf = ffi.new("unsigned char[]", 1 << 16)
    n = lib.tr_selftest_frame(buf, 1 << 16)
    assert n > 0
    assert bytes(ffi.buffer(buf, n)) == _golden()


def test_golden_vector_decodes():
    data = _golden()
    kind, session, first, count, length = _wire.unpack_header(data)
    assert (kind, session, first, count, length) == (_wire.FrameKind.RECORDS, 7, 100, 16, len(data) - 24)
    recs = _wire.iter_records(data[24:])
    assert len(recs) == count
    assert [r[1] for r in recs] == list(range(100, 116))
    T = 1700000000123456789
    args = [1, 512, 196608, 67108864, 21474836480, 6597069766656]
    exp = [
        _wire.record(Rec.LOST, 100, T, 0, 0, 5),
        _wire.record(Rec.SYSCALL, 101, T - 5000, 1000, 1000, 0, 257, args, 3, False, 1234, [[0, 1, b"/etc/x\0"]], 777, 4),
        _wire.record(Rec.SYSCALL_ENTRY, 102, T - 4000, 1000, 1000, 0, 0, args, [], 4),
        _wire.record(Rec.EXEC, 103, T, 1001, 1000, 1001),
        _wire.record(Rec.SYSCALL_EXIT, 104, T, 1000, 1000, 0, 0, 3, False, 99, [[1, 1, b"abc"]], None, 4),
        _wire.record(Rec.SYSCALL, 105, T, 1001, 1000, 1, 20, args, None, False, None, [], None, 5),
        _wire.record(Rec.SYSCALL, 106, T, 1001, 1000, 0, 2, [2**64 - 1] + args[1:], -14, True, 10, [[0, 0, -14]], None, 4),
        _wire.record(Rec.SYSCALL, 107, T, 2000, 2000, 0, 231, args, None, False, None, [], None, 6, ext={"nspid": [1, 1]}),
        _wire.record(Rec.NEWTASK, 108, T, 1000, 1000, 1002, _wire.NewTask.CLONE),
        _wire.record(Rec.SIGNAL, 109, T, 1000, 1000, 10, (b"siginfo" * 19)[:128]),
        _wire.record(Rec.STOPPED, 110, T, 1000, 1000, 19),
        _wire.record(Rec.ATTACH, 111, T, 2000, 2000, ext={"nspid": [1, 1]}),
        _wire.record(Rec.DETACH, 112, T, 2000, 2000, ext={"nspid": [1, 1]}),
        _wire.record(Rec.EXIT, 113, T, 1001, 1000, 0),
        _wire.record(Rec.KILLED, 114, T, 1000, 1000, 11, True),
        _wire.record(Rec.ERROR, 115, T, 0, 0, 3, "no such task"),
    ]
    assert recs == exp
    assert _wire.ext(recs[7]) == {"nspid": [1, 1]}
    assert _wire.field(recs[4], "ret") == 3 and _wire.field(recs[6], "is_error") is True


def test_plan_check():
    from _plans import build_plan, spec

    plan = build_plan(spec(["openat", "execve", "read"]))
    assert lib.tr_plan_check(plan, len(plan)) == 3
    assert lib.tr_plan_check(plan[:-1], len(plan) - 1) < 0
    bad = b"XXXX" + plan[4:]
    assert lib.tr_plan_check(bad, len(bad)) < 0


def test_c_plan_parser_agrees_with_bpfgen_vectors():
    import glob
    import json

    files = sorted(glob.glob(os.path.join(VECTORS, "plan_*.bin")))
    assert files
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        with open(path[:-4] + ".json") as f:
            want = json.load(f)
        got = lib.tr_plan_check(data, len(data))
        if "error" in want:
            assert got < 0, path
        else:
            assert got == len(want["entries"]), path
