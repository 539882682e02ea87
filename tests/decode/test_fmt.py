"""Strings, numbers, flag sets and errno as strace prints them."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tracerd.client.decode._flags import get, signame
from tracerd.client.decode._fmt import error_text, quote, quote_buf, quote_cstr

_ESC = {"n": 10, "t": 9, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote(text: str) -> bytes:
    """Read strace's quoting back (test helper)."""
    assert text[0] == '"' and text[-1] == '"', text
    s, out, i = text[1:-1], bytearray(), 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.append(ord(c))
            i += 1
            continue
        n = s[i + 1]
        if n in _ESC:
            out.append(_ESC[n])
            i += 2
        elif n == "x":
            out.append(int(s[i + 2 : i + 4], 16))
            i += 4
        else:
            m = re.match(r"[0-7]{1,3}", s[i + 1 :])
            out.append(int(m.group(0), 8))
            i += 1 + len(m.group(0))
    return bytes(out)


@given(st.binary(max_size=64), st.sampled_from([0, 1, 2]))
def test_quote_round_trips(data, xflag):
    assert unquote(quote(data, xflag)) == data


@given(st.binary(max_size=64))
def test_xx_is_all_hex(data):
    q = quote(data, 2)
    assert q == '"' + "".join(f"\\x{b:02x}" for b in data) + '"'


def test_octal_escapes_shortest_unless_a_digit_follows():
    assert quote(b"\x7fELF\x02\x01\x00") == '"\\177ELF\\2\\1\\0"'
    assert quote(b"\x01" + b"7") == '"\\0017"'
    assert quote(b"\x01" + b"9") == '"\\19"'
    assert quote(b'a"b\\c\t\n') == '"a\\"b\\\\c\\t\\n"'


def test_x_hexes_the_whole_string_only_when_needed():
    assert quote(b"abc\n", 1) == '"abc\\n"'
    assert quote(b"ab\x01", 1) == '"\\x61\\x62\\x01"'


def test_truncation():
    assert quote_cstr(b"abcdef\0", 4) == '"abcd"...'
    assert quote_cstr(b"abcd\0", 4) == '"abcd"'
    assert quote_cstr(b"abcd", 4) == '"abcd"...'  # no NUL within what was read
    assert quote_buf(b"x" * 40, 100, 32) == '"' + "x" * 32 + '"...'
    assert quote_buf(b"xyz", 3, 32) == '"xyz"'


def test_flags_known_unknown_zero():
    o = get("open_flags")
    assert o.flags(0o2000000 | 0x40000000) == "O_CLOEXEC|0x40000000"
    assert get("at_flags").flags(0x80000000) == "0x80000000 /* AT_??? */"
    assert get("at_flags").flags(0) == "0"
    assert get("mmap_prot").flags(0) == "PROT_NONE"
    assert get("mmap_prot").flags(3, "raw") == "0x3"
    assert get("mmap_prot").flags(3, "verbose") == "0x3 /* PROT_READ|PROT_WRITE */"
    assert get("seek_whence").xval(77) == "0x4d /* SEEK_??? */"
    assert get("seek_whence").xval(1) == "SEEK_CUR"
    assert get("seek_whence").xval(1, "verbose") == "0x1 /* SEEK_CUR */"


def test_errno_texts():
    assert error_text(2) == "-1 ENOENT (No such file or directory)"
    assert error_text(11) == "-1 EAGAIN (Resource temporarily unavailable)"
    assert error_text(95) == "-1 EOPNOTSUPP (Operation not supported)"
    assert error_text(512) == "? ERESTARTSYS (To be restarted if SA_RESTART is set)"
    assert error_text(516) == "? ERESTART_RESTARTBLOCK (Interrupted by signal)"
    assert error_text(524) == "-1 ENOTSUPP (Unknown error 524)"


def test_signal_names_follow_the_kernel_numbering():
    assert signame(17) == "SIGCHLD"
    assert signame(6) == "SIGABRT"
    assert signame(32) == "SIGRTMIN"
    assert signame(33) == "SIGRT_1"
    assert signame(64) == "SIGRT_32"
    assert signame(65) is None


def test_xstyle_unknown_values_as_strace_6_1():
    # checked with strace -X verbose/raw on this machine
    w = get("seek_whence")
    assert w.xval(77, "verbose") == "0x4d /* SEEK_??? */"
    assert w.xval(77, "raw") == "0x4d"
    assert get("clocks").xval(99, "verbose") == "0x63 /* CLOCK_??? */"
    assert get("fcntl_cmds").xval(1, "verbose") == "0x1 /* F_GETFD */"
