"""ioctl: Trusted Execution Environments (linux/tee.h, request type 0xa4):
shared memory, sessions, invocations and the supplicant's requests. The
argument struct of the last four is behind tee_ioctl_buf_data's buf_ptr
(read by a DEREF op: bpfgen/syscalls.toml's [layouts] tee_ioctl_buf_data,
1024 bytes at most, the kernel's TEE_MAX_ARG_SIZE), a head and num_params
parameters of 32 bytes."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import FlagSet, hexa
from ._ioctl_util import arg_bytes, printer, type_decoder

_H = "include/uapi/linux/tee.h"
_SHM = FlagSet("tee_shm_flags", [("TEE_IOCTL_SHM_MAPPED", 1), ("TEE_IOCTL_SHM_DMA_BUF", 2)], "TEE_IOCTL_SHM_???", _H)
_TYPES = FlagSet("tee_param_types", [
    ("TEE_IOCTL_PARAM_ATTR_TYPE_NONE", 0), ("TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INPUT", 1),
    ("TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_OUTPUT", 2), ("TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INOUT", 3),
    ("TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INPUT", 5), ("TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT", 6),
    ("TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INOUT", 7)], "TEE_IOCTL_PARAM_ATTR_TYPE_???", _H)
_LOGINS = FlagSet("tee_logins", [
    ("TEE_IOCTL_LOGIN_PUBLIC", 0), ("TEE_IOCTL_LOGIN_USER", 1), ("TEE_IOCTL_LOGIN_GROUP", 2),
    ("TEE_IOCTL_LOGIN_APPLICATION", 4), ("TEE_IOCTL_LOGIN_USER_APPLICATION", 5),
    ("TEE_IOCTL_LOGIN_GROUP_APPLICATION", 6)], "TEE_IOCTL_LOGIN_???", _H)
_META = 0x100
_MAX_ARG = 1024


def _struct(fmt: str, text):
    """A fixed struct printed from its fields."""
    size = struct.calcsize(fmt)
    return size, lambda c, b: text(c, *struct.unpack_from(fmt, b))


for _name, (_size, _fn) in {
    "tee_cancel": _struct("<II", lambda c, cid, s: f"{{cancel_id={cid}, session={hexa(s)}}}"),
    "tee_close_session": _struct("<I", lambda c, s: f"{{session={hexa(s)}}}"),
    "tee_shm_alloc": _struct("<QI", lambda c, size, fl: f"{{size={hexa(size)}, flags={_SHM.flags(fl, c.style)}}}"),
    "tee_shm_register": _struct("<QQI", lambda c, a, n, fl: (
        f"{{addr={hexa(a)}, length={hexa(n)}, flags={_SHM.flags(fl, c.style)}}}")),
}.items():
    printer(_name, _size)(_fn)
_, _register_fd = _struct("<qQI", lambda c, fd, _n, fl: f"{{fd={fd}, flags={_SHM.flags(fl, c.style)}}}")


def _param(c: C, b: bytes, off: int) -> str:
    attr, a, b_, c_ = struct.unpack_from("<4Q", b, off)
    typ = _TYPES.xval(attr & 0xFF, c.style) + ("|TEE_IOCTL_PARAM_ATTR_META" if attr & _META else "")
    # by the whole attribute, as strace: a memory reference with the META
    # flag prints as values
    if attr == 0:
        return f"{{attr={typ}}}"
    if attr in (5, 6, 7):
        return f"{{attr={typ}, shm_offs={hexa(a)}, size={hexa(b_)}, shm_id={c_}}}"
    return f"{{attr={typ}, a={hexa(a)}, b={hexa(b_)}, c={hexa(c_)}}}"


def _uuid(u: bytes) -> str:
    h = u.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _open_session(c: C, b: bytes) -> tuple[str, int]:
    login, cancel = struct.unpack_from("<II", b, 32)
    head = f"uuid={_uuid(b[:16])}, clnt_login={_LOGINS.xval(login, c.style)}"
    if login in (2, 6):  # the group's id
        head += f", clnt_uuid={struct.unpack_from('<I', b, 16)[0]}"
    elif _LOGINS.lookup(login) is None:
        head += ", clnt_uuid=[" + ", ".join(hexa(x) for x in b[16:32]) + "]"
    return head + f", cancel_id={cancel}", 56


# request number -> (the head's printer, giving its text and size)
_HEADS = {
    2: _open_session,
    3: lambda c, b: ("func={}, session={}, cancel_id={}".format(
        struct.unpack_from("<I", b)[0], hexa(struct.unpack_from("<I", b, 4)[0]), struct.unpack_from("<I", b, 8)[0]), 24),
    6: lambda c, b: (f"func={struct.unpack_from('<I', b)[0]}", 8),
    7: lambda c, b: ("", 8),
}


@printer("tee_ioctl_buf_data", 16)
def _buf_data(c: C, b: bytes) -> str:
    ptr, n = struct.unpack_from("<QQ", b)
    text = f"{{buf_len={n}, buf_ptr="
    head = _HEADS[c.a(1) & 0xFF]
    data = c.deref(2, 0, 0) if ptr else None
    if not isinstance(data, (bytes, bytearray)) or n > _MAX_ARG or len(data) < n or n < 8:
        return text + (hexa(ptr) if ptr else "NULL") + "}"
    data = bytes(data)
    fields, size = head(c, data)
    if n < size:
        return text + hexa(ptr) + "}"
    count = struct.unpack_from("<I", data, size - 4)[0]
    if n != size + 32 * count:  # the buffer holds the head and exactly its parameters, or is not decoded
        return text + hexa(ptr) + "}"
    params = [_param(c, data, size + 32 * k) for k in range(count)]
    body = (fields + ", " if fields else "") + f"num_params={count}, params=[" + ", ".join(params) + "]"
    return text + "{" + body + "}}"


_REGISTER_FD = 0xC020A408  # TEE_IOC_SHM_REGISTER_FD: newer than strace 6.1's names, decoded all the same


@type_decoder("tee")
def _tee_type(c: C, req: int, name: str | None) -> list | None:
    if req != _REGISTER_FD:
        return None
    b = arg_bytes(c, 0, 32)
    return [b if isinstance(b, str) else _register_fd(c, b)]
