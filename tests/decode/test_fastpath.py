"""The decoder's fast paths print exactly what its general paths print.

call_split's per-(pers, nr) plan, the refilled context, the no-argument
shortcut and the remembered texts are only allowed to be faster: these
tests drive the same records through the general path (the one the fd
table takes) and through fresh decoders, and check quoting against a plain
per-byte reference."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracerd._wire import Pers, Rec, SysFlag, record
from tracerd.client.decode import DecodeOptions, Decoder
from tracerd.client.decode._core import REGISTRY, generic_args, ret_text, table_args
from tracerd.client.decode._fmt import _ESC, _SHORT, hexa, quote, quote_buf, quote_cstr

# every x86_64 number (0..335, some past the table) and i386's own, so every
# family decoder and the generic and unknown-number paths are drawn
NRS = st.one_of(st.sampled_from([0, 1, 3, 9, 10, 11, 12, 13, 14, 16, 17, 21, 39, 56, 59, 61, 72, 102, 110, 158, 202, 217,
                                  218, 231, 257, 262, 273, 302, 334]),  # what a fork-heavy trace is made of
                st.integers(0, 340), st.sampled_from([424, 435, 999]))
ARGS = st.lists(st.one_of(st.integers(0, 16), st.integers(0, (1 << 64) - 1), st.sampled_from([0xFFFFFF9C, (1 << 64) - 100])), min_size=6, max_size=6)
MEMVAL = st.one_of(st.binary(max_size=48), st.integers(-14, -1),
                   st.lists(st.one_of(st.integers(0, 3), st.binary(max_size=8)), max_size=4))
MEM = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 5), MEMVAL).map(list), max_size=3)
RET = st.one_of(st.none(), st.integers(-4095, -1), st.integers(0, 1 << 48))
STYLES = st.sampled_from([DecodeOptions(), DecodeOptions(xstyle="raw"), DecodeOptions(xstyle="verbose"),
                          DecodeOptions(xflag=1, strsize=8), DecodeOptions(abbrev=frozenset()),
                          DecodeOptions(raw=frozenset({(Pers.X86_64, 0), (Pers.X86_64, 9), (Pers.I386, 90)}))])


@st.composite
def calls(draw, pers=st.sampled_from([Pers.X86_64, Pers.X86_64, Pers.I386])):
    ret = draw(RET)
    nr, p = draw(NRS), draw(pers)
    if Decoder().name(p, nr) == "restart_syscall":  # prints the thread's previous call: not per record
        nr = 39
    return record(Rec.SYSCALL, 1, 2, 100, 100, p, nr, draw(ARGS), ret, ret is not None and ret < 0,
                  5, draw(MEM), None, draw(st.sampled_from([0, SysFlag.NO_EXIT])))


def _general(opts: DecodeOptions, rec) -> str:
    """call() through the general path: _parts and ret_text per call (the
    path taken when the fd table is followed; without -y it prints the same)."""
    d = Decoder(opts)
    d._want_fds = True
    return d.call(rec)


def _dispatch(c):
    """Which decoder prints a call, decided per call as before the plan:
    -e raw=, i386 argument lists, family decoder, table, unknown number."""
    if c.opts.raw and c.key in c.opts.raw:
        n = len(c.sc.args) if c.sc is not None else 6
        return [hexa(c.a(i)) for i in range(n)], "hex"
    spec = REGISTRY.get(c.name)
    if c.sc is not None and c.pers != 0 and c.pers in getattr(c.sc, "pers_args", {}):
        block = c.m(0, 0)
        if c.name == "mmap" and spec is not None and isinstance(block, (bytes, bytearray)) and len(block) >= 24:
            c.args = list(struct.unpack_from("<6I", block))
            return spec.fn(c), "hex"
        return generic_args(c, c.sc.pers_args[c.pers]), c.sc.ret
    if spec is not None:
        return spec.fn(c), spec.ret if spec.ret is not None else (c.sc.ret if c.sc is not None else "int")
    if c.sc is not None:
        return table_args(c), c.sc.ret  # conditional arguments (open's mode) left out, `$` variants chosen
    return [hexa(c.a(i)) for i in range(6)], "int"


def _per_call(opts: DecodeOptions, rec) -> str:
    """call() as decided per call, with ret_text for the return."""
    pers, nr, args, ret, is_error, mem = rec[5:10] + [rec[11]]
    d = Decoder(opts)
    c = d._ctx(pers, nr, args, ret, is_error, {(e[0], e[1]): e[2] for e in mem}, rec[3], ret is not None)
    try:
        texts, kind = _dispatch(c)
    except Exception:
        texts, kind = [hexa(c.a(i)) for i in range(len(c.sc.args) if c.sc is not None else 6)], "int"
    if ret is None:
        return f"{c.name}({', '.join(texts)}) = ?"
    try:
        rtext = ret_text(c, kind)
    except Exception:
        rtext = str(ret)
    return f"{c.name}({', '.join(texts)}) = {rtext}"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls(), STYLES)
def test_plan_path_prints_what_the_general_path_prints(rec, opts):
    fast = Decoder(opts)
    head, ret = fast.call_split(rec)
    assert f"{head} = {ret}" == _general(opts, rec) == _per_call(opts, rec)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(calls(), min_size=2, max_size=20), STYLES)
def test_one_decoder_over_many_calls_prints_what_fresh_ones_print(recs, opts):
    # the refilled context and the remembered texts carry nothing from one
    # call to the next (i386 mmap even replaces the context's arguments)
    d = Decoder(opts)
    assert [d.call(r) for r in recs] == [Decoder(opts).call(r) for r in recs]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls(pers=st.just(Pers.X86_64)), STYLES)
def test_split_halves_after_a_whole_call_still_join(rec, opts):
    # entry()/resumed() refill the same context call_split uses
    d = Decoder(opts)
    whole = d.call(rec)
    entry = record(Rec.SYSCALL_ENTRY, 1, 2, 100, 100, rec[5], rec[6], rec[7], [m for m in rec[11] if m[0] == 0], 0)
    exit_ = record(Rec.SYSCALL_EXIT, 2, 3, 100, 100, rec[5], rec[6], rec[8], rec[9], 5, [m for m in rec[11] if m[0] == 1], None, 0)
    fresh = Decoder(opts)
    assert d.entry(entry) + d.resumed(exit_, entry) == fresh.entry(entry) + fresh.resumed(exit_, entry)
    assert isinstance(whole, str)


def test_no_argument_calls_need_no_context():
    d = Decoder()
    getppid = record(Rec.SYSCALL, 1, 2, 100, 100, Pers.X86_64, 110, [7] * 6, 4242, False, 5, [], None, 0)
    assert d.call_split(getppid) == ("getppid()", "4242")
    failed = record(Rec.SYSCALL, 1, 2, 100, 100, Pers.X86_64, 110, [0] * 6, -1, True, 5, [], None, 0)
    assert d.call(failed) == "getppid() = -1 EPERM (Operation not permitted)"
    gone = record(Rec.SYSCALL, 1, 2, 100, 100, Pers.X86_64, 110, [0] * 6, None, False, None, [], None, SysFlag.NO_EXIT)
    assert d.call(gone) == "getppid() = ?"
    # the thread's last call is still remembered for restart_syscall
    restart = record(Rec.SYSCALL, 1, 2, 100, 100, Pers.X86_64, 219, [0] * 6, 0, False, 5, [], None, 0)
    d.call(getppid)
    assert d.call(restart) == "restart_syscall(<... resuming interrupted getppid ...>) = 0"


def _reference(data: bytes) -> str:
    """strace's default quoting, one byte at a time (the loop quote() had)."""
    out = []
    for i, c in enumerate(data):
        if (c < 0x20 or c >= 0x7F) and c not in _ESC and i + 1 < len(data) and 0x30 <= data[i + 1] <= 0x37:
            out.append(f"\\{c:03o}")
        else:
            out.append(_SHORT[c])
    return '"' + "".join(out) + '"'


# bytes that exercise each branch: printable, the C escapes, octal-escaped
# bytes, octal digits after them, high bytes
TRICKY = st.binary(max_size=40) | st.lists(st.sampled_from(b'\x00\x01\t\n\x0b\x0c\r\x0e\x1f\x7f\x80\xff01789aZ"\\ '), max_size=24).map(bytes)


@given(TRICKY)
def test_quote_fast_paths_match_the_per_byte_reference(data):
    assert quote(data) == _reference(data)


def test_remembered_quotes_keep_their_arguments_apart():
    assert quote_cstr(b"abcdef\0", 3) == '"abc"...'
    assert quote_cstr(b"abcdef\0", 32) == '"abcdef"'
    assert quote_cstr(b"abc\xff\0", 32, 1) == '"\\x61\\x62\\x63\\xff"'
    assert quote_cstr(b"abc\xff\0", 32, 0) == '"abc\\377"'
    assert quote_buf(b"abcdef", 6, 32) == '"abcdef"'
    assert quote_buf(b"abcdef", 6, 32, 0, True) == '"\\x61\\x62\\x63\\x64\\x65\\x66"'
    assert quote_buf(b"abcdef", 10, 32) == '"abcdef"...'
    assert quote_buf(b"abcdef", 6, 2) == '"ab"...'
    assert quote_cstr(bytearray(b"x\0"), 32) == '"x"'  # not hashable: quoted afresh
