"""File family: open flags and modes, access modes, AT_* flags, links,
renames, directories, xattrs."""

from __future__ import annotations


from ._core import C, syscall
from ._fmt import comment, hexa, quote


_OPEN_FLAGS: dict = {}  # (value, style) -> text: pure, and a trace opens with the same few flag sets


def open_flags(c: C, v: int, style: str | None = None) -> str:
    style = style or c.style
    text = _OPEN_FLAGS.get((v, style))
    if text is None:
        text = _open_flags(c, v, style)
        if len(_OPEN_FLAGS) >= 1024:
            _OPEN_FLAGS.clear()
        _OPEN_FLAGS[(v, style)] = text
    return text


def _open_flags(c: C, v: int, style: str) -> str:
    if style == "raw":
        return hexa(v)
    acc = c.fs("open_access").lookup(v & 3)
    rest = v & ~3
    text = acc
    if rest:
        r = c.fs("open_flags").flags(rest, "abbrev")
        text = acc + "|" + r if " /* " not in r else acc + "|" + r.split(" ")[0]
    if style == "verbose":
        return hexa(v) + comment(text)
    return text


def _open_tail(c: C, fi: int) -> list[str]:
    v = c.uint(fi)
    out = [open_flags(c, v)]
    if v & 0o100 or (v & 0o20000000) == 0o20000000:  # O_CREAT, __O_TMPFILE
        out.append(c.mode(fi + 1))
    return out


@syscall("open")
def _open(c: C):
    return [c.path(0)] + _open_tail(c, 1)


@syscall("openat")
def _openat(c: C):
    return [c.dirfd(0), c.path(1)] + _open_tail(c, 2)


@syscall("faccessat2")
def _faccessat2(c: C):
    return [c.dirfd(0), c.path(1), c.flags(2, "access_modes"), c.flags(3, "faccessat_flags")]


def _readlink(c: C):
    return [c.path(0), c.outbuf(1), c.lu(2)]


@syscall("getcwd", entry=0)
def _getcwd(c: C):
    if not c.ok:
        return [c.ptr(0), c.lu(1)]
    v = c.m(0, 1)
    if not isinstance(v, (bytes, bytearray)):
        return [c.ptr(0), c.lu(1)]
    got = bytes(v[: c.rval])
    more = "..." if b"\0" not in got and len(got) < c.rval else ""  # fetched short of the path
    return [quote(got.split(b"\0", 1)[0], c.opts.xflag) + more, c.lu(1)]


@syscall("umask", ret=lambda c: f"{c.ret:03o}")
def _umask(c: C):
    return [c.mode(0)]


def _xattr_value(c: C, i: int, n: int) -> str:
    return c.buf(i, n, phase=0)


@syscall("getxattr", "lgetxattr", entry=2)
def _getxattr(c: C):
    return [c.path(0), c.cstr(1), c.outbuf(2) if c.ulong(2) else "NULL", c.lu(3)]


@syscall("fgetxattr", entry=2)
def _fgetxattr(c: C):
    return [c.fd(0), c.cstr(1), c.outbuf(2) if c.ulong(2) else "NULL", c.lu(3)]


@syscall("listxattr", "llistxattr", entry=1)
def _listxattr(c: C):
    return [c.path(0), c.outbuf(1) if c.ulong(1) else "NULL", c.lu(2)]


@syscall("utimensat")
def _utimensat(c: C):
    return [c.dirfd(0), c.path(1), c.struct(2, "timespec2"), c.flags(3, "at_flags")]
