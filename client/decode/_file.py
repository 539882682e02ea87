"""File family: what the table cannot say of faccessat2, getcwd, umask, xattrs,
utimensat and mount (open and the rest are table entries)."""

from __future__ import annotations

import struct

from ._core import C, modetext, struct as register_struct, syscall
from ._fmt import quote, quote_buf


@syscall("faccessat2")
def _faccessat2(c: C):
    return [c.dirfd(0), c.path(1), c.flags(2, "access_modes"), c.flags(3, "faccessat_flags")]


@syscall("getcwd")
def _getcwd(c: C):
    if not c.ok:
        return [c.ptr(0), c.lu(1)]
    v = c.m(0, 1)
    if not isinstance(v, (bytes, bytearray)):
        return [c.ptr(0), c.lu(1)]
    got = bytes(v[: c.rval])
    more = "..." if b"\0" not in got and len(got) < c.rval else ""  # fetched short of the path
    return [quote(got.split(b"\0", 1)[0], c.opts.xflag) + more, c.lu(1)]


@syscall("umask", ret=lambda c: modetext(c.ret))  # C's %#03o: 0126, 022, 000
def _umask(c: C):
    return [c.mode(0)]


@syscall("utimensat")
def _utimensat(c: C):
    return [c.dirfd(0), c.path(1), c.struct(2, "timespec2"), c.flags(3, "at_flags")]


@syscall("mknod", "mknodat")
def _mknod(c: C):
    """The mode with its file type; the device only for a character or block device."""
    from ._core import symbolic_mode
    from ._stat import makedev

    k = 1 if c.name == "mknodat" else 0
    mode = c.uint(k + 1) & 0xFFFF  # umode_t
    out = ([c.dirfd(0)] if k else []) + [c.path(k), symbolic_mode(mode, c.style)]
    if mode & 0o170000 in (0o20000, 0o60000):
        out.append(makedev(c.uint(k + 2)))
    return out


@syscall("openat2")
def _openat2(c: C):
    """struct open_how, read only when its size is at least the kernel's first version (24)."""
    import struct as _struct

    size = c.ulong(3)
    v = c.m(2, 0)
    if c.ulong(2) == 0:
        how = "NULL"
    elif size < 24 or not isinstance(v, (bytes, bytearray)) or len(v) < 24 or len(v) < min(size, 24):
        how = c.ptr(2)
    else:
        fl, mode, resolve = _struct.unpack_from("<QQQ", v)
        parts = [f"flags={c.fs('open_modes').flags(fl, c.style)}"]
        if fl & 0o20000100 or mode:
            parts.append(f"mode={modetext(mode) if mode <= 0xFFFF else '0' + format(mode, 'o')}")
        parts.append(f"resolve={c.fs('open_resolve_flags').flags(resolve, c.style)}")
        want = min(size, 4096)  # strace looks at the bytes past the struct, up to a page
        if want > 24:
            if len(v) < min(want, max(c.opts.strsize, 24)):
                parts.append("???")  # unreadable
            elif len(v) >= want and any(v[24:want]):
                parts.append(f"/* bytes 24..{want - 1} */ "
                             + quote_buf(bytes(v[24:want]), want - 24, c.opts.strsize, c.opts.xflag, True))
        how = "{" + ", ".join(parts) + "}"
    return [c.dirfd(0), c.path(1), how, c.lu(3)]


def xattr_value(c: C, i: int, size: int) -> str:
    """An attribute value: the address when its size is beyond XATTR_SIZE_MAX,
    a trailing NUL left out as strace does."""
    if size > 65536 and c.ulong(i):
        return c.ptr(i)
    v = c.m(i, 0)
    if isinstance(v, (bytes, bytearray)) and size and len(v) >= size and v[size - 1] == 0:
        size -= 1
    return c.buf(i, size, phase=0)


@syscall("setxattr", "lsetxattr", "fsetxattr")
def _setxattr(c: C):
    first = c.fd(0) if c.name == "fsetxattr" else c.path(0)
    return [first, c.cstr(1), xattr_value(c, 2, c.ulong(3)), c.lu(3), c.flags(4, "xattr_flags")]


@syscall("listxattr", "llistxattr", "flistxattr")
def _listxattr(c: C):
    """The list only when a size was given and the call succeeded."""
    first = c.fd(0) if c.name == "flistxattr" else c.path(0)
    lst = c.outbuf(1) if c.ulong(2) and c.ok else c.ptr(1)
    return [first, lst, c.lu(2)]


@syscall("swapon")
def _swapon(c: C):
    """The flags, then the priority (SWAP_FLAG_PRIO_MASK) as a number."""
    v = c.uint(1)
    fl = v & ~0x7FFF
    return [c.path(0), (c.fs("swap_flags").flags(fl, c.style) + "|" if fl else "") + str(v & 0x7FFF)]


@register_struct("mount_attr")
def mount_attr_text(c: C, b: bytes, i: int) -> str:
    """struct mount_attr (mount_setattr): the attributes set and cleared,
    the propagation, the user namespace fd (an fd only with
    MOUNT_ATTR_IDMAP), and the bytes past its 32 when the size says so;
    a size below 32 is the address."""
    from ._process import nonzero_tail

    size = c.ulong(4)
    if size < 32 or len(b) < 32:
        return c.ptr(i)
    aset, aclr, prop, userns = struct.unpack_from("<4Q", b)
    fs = c.fs("mount_attr_flags")
    if userns > 0x7FFFFFFF or not (aset | aclr) & 0x100000:
        ns = str(userns)
    else:
        ns = c.fd_in(i, 24, userns)  # named at the stop ([layouts] mount_attr)
    p = [f"attr_set={fs.flags(aset, c.style)}", f"attr_clr={fs.flags(aclr, c.style)}",
         f"propagation={c.fs('mount_attr_propagation').xval(prop, c.style)}", f"userns_fd={ns}"]
    tail = nonzero_tail(c, b, 32, size)
    return "{" + ", ".join(p + ([tail] if tail else [])) + "}"
