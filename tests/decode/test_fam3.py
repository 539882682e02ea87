"""Family decoders of the fourth round under options the golden programs do
not run with (-v, -X raw|verbose). Each expected line was printed by strace
6.1 on this machine for the same call (a small program making it)."""

from __future__ import annotations

import socket
import struct

from tracerd.client.decode import DecodeOptions, Decoder

from .test_decoder import sysrec


def _dirent(ino: int, off: int, name: bytes, dtype: int) -> bytes:
    """An old linux_dirent: its type in the record's last byte."""
    reclen = 24
    return struct.pack("<QqH", ino, off, reclen) + name.ljust(reclen - 19, b"\0") + bytes([dtype])


def test_getdents_prints_the_type_after_the_name():
    buf = _dirent(2166750, 6357504699377170974, b".", 4) + _dirent(2166744, 9223372036854775807, b"..", 4)
    r = sysrec("getdents", [3, 0x1000, 4096], len(buf), [(1, 1, buf)], nr=78)
    head = ("getdents(3, [{d_ino=2166750, d_off=6357504699377170974, d_reclen=24, d_name=\".\", d_type=%s}, "
            "{d_ino=2166744, d_off=9223372036854775807, d_reclen=24, d_name=\"..\", d_type=%s}], 4096) = 48")
    for style, dt in (("raw", "0x4"), ("verbose", "0x4 /* DT_DIR */"), ("abbrev", "DT_DIR")):
        d = Decoder(DecodeOptions(xstyle=style, abbrev=frozenset()))
        assert d.call(r) == head % (dt, dt)


def test_inet_addresses_by_x_style():
    s6 = (struct.pack("<H", socket.AF_INET6) + struct.pack(">HI", 12345, 7) + socket.inet_pton(socket.AF_INET6, "fe80::1")
          + struct.pack("<I", 1))
    s4 = struct.pack("<H", socket.AF_INET) + struct.pack(">H", 80) + socket.inet_aton("10.1.2.3") + bytes(8)
    r6 = sysrec("connect", [-1, 0x1000, 28], -9, [(0, 1, s6)], err=True)
    r4 = sysrec("connect", [-1, 0x1000, 16], -9, [(0, 1, s4)], err=True)
    raw, verbose = Decoder(DecodeOptions(xstyle="raw")), Decoder(DecodeOptions(xstyle="verbose"))
    addr6 = r'"\xfe\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"'
    assert raw.call(r6) == ('connect(-1, {sa_family=0xa, sin6_port="\\x30\\x39", sin6_flowinfo="\\x00\\x00\\x00\\x07", '
                            f'sin6_addr={addr6}, sin6_scope_id=1}}, 28) = -1 EBADF (Bad file descriptor)')
    assert verbose.call(r6) == (
        'connect(-1, {sa_family=0xa /* AF_INET6 */, sin6_port="\\x30\\x39" /* htons(12345) */, '
        'sin6_flowinfo="\\x00\\x00\\x00\\x07" /* htonl(7) */, '
        f'sin6_addr={addr6} /* inet_pton(AF_INET6, "fe80::1") */, sin6_scope_id=1 /* if_nametoindex("lo") */}}, 28)'
        ' = -1 EBADF (Bad file descriptor)')
    assert raw.call(r4) == ('connect(-1, {sa_family=0x2, sin_port="\\x00\\x50", sin_addr="\\x0a\\x01\\x02\\x03"}, 16)'
                            ' = -1 EBADF (Bad file descriptor)')
    assert verbose.call(r4) == ('connect(-1, {sa_family=0x2 /* AF_INET */, sin_port="\\x00\\x50" /* htons(80) */, '
                                'sin_addr="\\x0a\\x01\\x02\\x03" /* inet_addr("10.1.2.3") */}, 16)'
                                ' = -1 EBADF (Bad file descriptor)')


def test_fsconfig_paths_by_command():
    """-P: fsconfig's value is a path for SET_PATH (what follows its NUL in
    the page read is not part of it); its own fd never counts."""
    d = Decoder(DecodeOptions())
    val = b"/dev/full\0garbage"
    assert d.paths_of(sysrec("fsconfig", [0, 3, 0x1000, 0x2000, -100], -22, [(0, 3, val)], err=True, nr=431)) == \
        ["/dev/full"]
    assert d.paths_of(sysrec("fsconfig", [0, 6, 0x1000, 0x2000, -100], -22, [(0, 3, val)], err=True, nr=431)) == []


def test_landlock_version_is_no_fd():
    """landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    returns the ABI version: a number even under -y (strace prints `= 1`);
    without the flag the return is an fd (fd 1 of this process is open)."""
    d = Decoder(DecodeOptions(yflag=1))
    assert d.call(sysrec("landlock_create_ruleset", [0, 0, 1], 1, nr=444)) == \
        "landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) = 1"
    assert d.call(sysrec("landlock_create_ruleset", [0, 0, 0], 1, nr=444)).startswith(
        "landlock_create_ruleset(NULL, 0, 0) = 1<")


def test_memfd_create_flags_by_x_style():
    """The flag word with the huge page size: one comment under -X verbose."""
    r = sysrec("memfd_create", [0x1000, 0x78000003], -22, [(0, 0, b"x\0")], err=True, nr=319)
    tail = " = -1 EINVAL (Invalid argument)"
    assert Decoder(DecodeOptions(xstyle="verbose")).call(r) == \
        'memfd_create("x", 0x78000003 /* MFD_CLOEXEC|MFD_ALLOW_SEALING|30<<MFD_HUGE_SHIFT */)' + tail
    assert Decoder(DecodeOptions(xstyle="raw")).call(r) == 'memfd_create("x", 0x78000003)' + tail
    assert Decoder(DecodeOptions()).call(r) == 'memfd_create("x", MFD_CLOEXEC|MFD_ALLOW_SEALING|30<<MFD_HUGE_SHIFT)' + tail
