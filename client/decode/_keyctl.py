"""keyctl(2) by command, as strace prints it.

The command is an int (the kernel ignores the register's upper half); an
unknown one prints `0x... /* KEYCTL_??? */` with the four arguments in hex.
Each command says what its arguments are: key serials (KEY_SPEC_* by
name), strings, buffers (by a length argument, the return value, or a
field of KEYCTL_PKEY_*'s params), uids, permissions, an errno, and the
structs of KEYCTL_DH_COMPUTE (keyctl_dh_params, keyctl_kdf_params and its
hash name and other info behind pointers) and KEYCTL_PKEY_* (struct
keyctl_pkey_params). The memory is the table's: `keyctl`'s `fetch` rules
by command and the `keyctl_kdf_params` layout (bpfgen/syscalls.toml).
"""

from __future__ import annotations

import struct

from ._core import C, styled, syscall
from ._fmt import errno_name, hexa, quote
from ._misc import keyring

(GET_KEYRING_ID, JOIN_SESSION_KEYRING, UPDATE, REVOKE, CHOWN, SETPERM, DESCRIBE, CLEAR, LINK, UNLINK,
 SEARCH, READ, INSTANTIATE, NEGATE, SET_REQKEY_KEYRING, SET_TIMEOUT, ASSUME_AUTHORITY, GET_SECURITY,
 SESSION_TO_PARENT, REJECT, INSTANTIATE_IOV, INVALIDATE, GET_PERSISTENT, DH_COMPUTE, PKEY_QUERY,
 PKEY_ENCRYPT, PKEY_DECRYPT, PKEY_SIGN, PKEY_VERIFY, RESTRICT_KEYRING, MOVE, CAPABILITIES) = range(32)

_KEY_ONLY = frozenset({REVOKE, CLEAR, ASSUME_AUTHORITY, INVALIDATE})


def _key(c: C, v: int) -> str:
    v &= 0xFFFFFFFF
    v = v - (1 << 32) if v >> 31 else v
    return styled(str(v), c.fs("key_spec").lookup(v), c.style)


def _outstr(c: C, i: int, nul: bool) -> str:
    """What DESCRIBE/READ/GET_SECURITY wrote: the smaller of the return
    value and the buffer's size, up to its NUL for the first and last."""
    if not c.ulong(i) or not c.ok:
        return c.ptr(i)
    v = c.m(i, 1)
    n = min(c.rval, c.ulong(3))
    lim = c.opts.strsize
    if not isinstance(v, (bytes, bytearray)) or len(v) < min(n, lim):
        return c.ptr(i)
    b = bytes(v[:min(n, lim)])
    if nul and b"\0" in b:
        return quote(b[:b.find(b"\0")], c.opts.xflag)
    return quote(b, c.opts.xflag) + ("..." if n > lim else "")


def _bytes(c: C, addr: int, v, n: int, zero_addr: bool = False) -> str:
    """n bytes of which the fetch read v (-s of them at most)."""
    if not addr:
        return "NULL"
    lim = c.opts.strsize
    if (zero_addr and not n) or not isinstance(v, (bytes, bytearray)) or len(v) < min(n, lim):
        return hexa(addr)
    return quote(bytes(v[:min(n, lim)]), c.opts.xflag) + ("..." if n > lim else "")


def _spare(words) -> str:
    return ", __spare=[" + ", ".join(hexa(w) for w in words) + "]" if any(words) else ""


def _kdf(c: C) -> str:
    """struct keyctl_kdf_params: the hash's name, the other info (otherinfolen bytes)."""
    b = c.m(4, 0)
    if not c.ulong(4):
        return "NULL"
    if not isinstance(b, (bytes, bytearray)) or len(b) < 52:
        return c.ptr(4)
    hp, op, olen = struct.unpack_from("<QQI", b)
    spare = struct.unpack_from("<8I", b, 20)
    h = c.deref(4, 0, 0)
    if not hp:
        hs = "NULL"
    elif isinstance(h, (bytes, bytearray)) and (b"\0" in h or len(h) > c.opts.strsize):
        s = bytes(h)
        p = s.find(b"\0")
        lim = c.opts.strsize
        hs = quote(s[:min(p, lim)], c.opts.xflag) + ("..." if p > lim else "") if p != -1 else quote(s[:lim], c.opts.xflag) + "..."
    else:
        hs = hexa(hp)
    os_ = _bytes(c, op, c.deref(4, 8, 0), olen, zero_addr=True)
    return f"{{hashname={hs}, otherinfo={os_}, otherinfolen={olen}{_spare(spare)}}}"


def _pkey(c: C, verify: bool) -> list:
    """KEYCTL_PKEY_*: params, info, the input buffer, the output (VERIFY: a second input)."""
    b = c.m(1, 0)
    info = c.cstr(2)
    if not c.ulong(1) or not isinstance(b, (bytes, bytearray)) or len(b) < 40:
        return [c.ptr(1), info, c.ptr(3), c.ptr(4)]
    kid, in_len, out_len = struct.unpack_from("<iII", b)
    p = (f"{{key_id={_key(c, kid)}, in_len={in_len}, {'in2_len' if verify else 'out_len'}={out_len}"
         f"{_spare(struct.unpack_from('<7I', b, 12))}}}")
    inb = _bytes(c, c.ulong(3), c.m(3, 0), in_len)
    if verify:
        out = _bytes(c, c.ulong(4), c.m(4, 0), out_len)
    else:
        out = c.ptr(4)
    return [p, info, inb, out]


def _caps(c: C) -> str:
    if not c.ulong(1) or not c.ok:
        return c.ptr(1)
    v = c.m(1, 1)
    n = min(c.rval, c.ulong(2))
    if not isinstance(v, (bytes, bytearray)) or len(v) < min(n, c.opts.strsize):
        return c.ptr(1)
    out = []
    for k, x in enumerate(bytes(v[:n])):
        if k < 2:
            out.append(c.fs(f"keyctl_caps{k}").flags(x, c.style))
        else:
            out.append(hexa(x))
    return "[" + ", ".join(out) + "]"


@syscall("keyctl", ret="int")
def _keyctl(c: C):
    cmd = c.uint(0)
    out = [c.fs("keyctl_commands").xval(cmd, c.style)]
    k1 = _key(c, c.a(1))
    if cmd in _KEY_ONLY:
        return out + [k1]
    if cmd == GET_KEYRING_ID:
        return out + [k1, c.d(2)]
    if cmd == JOIN_SESSION_KEYRING:
        return out + [c.cstr(1)]
    if cmd in (UPDATE, INSTANTIATE):
        o = out + [k1, c.buf(2, c.ulong(3), phase=0), c.lu(3)]
        return o + [_key(c, c.a(4))] if cmd == INSTANTIATE else o
    if cmd == CHOWN:
        return out + [k1, c.id(2), c.id(3)]
    if cmd == SETPERM:
        return out + [k1, c.flags(2, "key_perms")]
    if cmd in (DESCRIBE, READ, GET_SECURITY):
        return out + [k1, _outstr(c, 2, cmd != READ), c.lu(3)]
    if cmd in (LINK, UNLINK):
        return out + [k1, _key(c, c.a(2))]
    if cmd == SEARCH:
        return out + [k1, c.cstr(2), c.cstr(3), _key(c, c.a(4))]
    if cmd == RESTRICT_KEYRING:
        return out + [k1, c.cstr(2), c.cstr(3)]
    if cmd == NEGATE:
        return out + [k1, c.u(2), _key(c, c.a(3))]
    if cmd == SET_REQKEY_KEYRING:
        return out + [c.fs("key_reqkeys").xval(c.int(1), c.style, "d")]
    if cmd == SET_TIMEOUT:
        return out + [k1, c.u(2)]
    if cmd == SESSION_TO_PARENT:
        return out
    if cmd == REJECT:
        e = c.uint(3)
        name = errno_name(e)
        et = styled(str(e), None if name.startswith("errno ") else name, c.style)
        return out + [k1, c.u(2), et, _key(c, c.a(4))]
    if cmd == INSTANTIATE_IOV:
        return out + [k1, c.iovec(2, c.ulong(3)), c.lu(3), _key(c, c.a(4))]
    if cmd == GET_PERSISTENT:
        return out + [c.id(1), _key(c, c.a(2))]
    if cmd == DH_COMPUTE:
        b = c.m(1, 0)
        if c.ulong(1) and isinstance(b, (bytes, bytearray)) and len(b) >= 12:
            pr, pm, bs = struct.unpack_from("<iii", b)
            dh = f"{{private={_key(c, pr)}, prime={_key(c, pm)}, base={_key(c, bs)}}}"
        else:
            dh = c.ptr(1)
        res = c.buf(2, min(c.rval, c.ulong(3)), phase=1) if c.ok else c.ptr(2)
        return out + [dh, res, c.lu(3), _kdf(c)]
    if cmd == PKEY_QUERY:
        return out + [k1, c.hex(2), c.cstr(3), c.ptr(4)]
    if cmd in (PKEY_ENCRYPT, PKEY_DECRYPT, PKEY_SIGN, PKEY_VERIFY):
        return out + _pkey(c, cmd == PKEY_VERIFY)
    if cmd == MOVE:
        return out + [k1, _key(c, c.a(2)), _key(c, c.a(3)), c.flags(4, "keyctl_move_flags")]
    if cmd == CAPABILITIES:
        return out + [_caps(c), c.lu(2)]
    return out + [c.hex(1), c.hex(2), c.hex(3), c.hex(4)]
