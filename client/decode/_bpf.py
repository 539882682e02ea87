"""bpf(2): the attribute union by command.

The table's attr is `struct[bpf_attr, in]`, read at entry as far as it can
be (bpfgen's PARTIAL_STRUCTS, 256 bytes at most). strace reads
min(size, the command's struct) bytes of it, zeroes the rest, and stops
printing at the first field group the size does not reach (a field added in
a later kernel); bytes past the struct it knows print as `extra_data` when
any is nonzero (`...` when abbreviating). An attr it cannot read (size 0,
above a page, or memory that ends first) prints as its address.

Decoded: BPF_PROG_LOAD. The other commands print the address, as before.
Not followed (second-level memory, not fetched): the license and log_buf
strings and the instructions, which print as their addresses.
"""

from __future__ import annotations

import struct

from ._core import C, syscall
from ._fmt import comment, hexa, quote
from ._netlink_msgs import _ifindex

BPF_PROG_LOAD = 5
PAGE = 4096

# the size of strace's BPF_PROG_LOAD_struct (include/uapi/linux/bpf.h's layout)
_PROG_LOAD_SIZE = 128


def _addr(v: int) -> str:
    return hexa(v) if v else "NULL"


def _fd(c: C, v: int) -> str:
    v = v - (1 << 32) if v >> 31 else v
    return c.dec.fd_text(v, c.tid) if c.dec._anyfd and v >= 0 else str(v)


def _kernel_version(c: C, v: int) -> str:
    text = f"KERNEL_VERSION({v >> 16}, {(v >> 8) & 0xFF}, {v & 0xFF})"
    if c.style == "raw":
        return hexa(v)
    if c.style == "verbose":
        return hexa(v) + comment(text)
    return text


def _prog_load(c: C, b: bytes, n: int) -> list[str]:
    """The fields of BPF_PROG_LOAD's attr that `n` bytes reach (b zero-padded):
    each group starts at an offset a later kernel added it at."""
    (ptype, cnt, insns, lic, log_level, log_size, log_buf, kver, pflags) = struct.unpack_from("<IIQQIIQII", b)
    ifindex, attach, btf_fd, fi_rec, fi, fi_cnt, li_rec, li, li_cnt, btf_id, prog_fd, fd_array = \
        struct.unpack_from("<IIIIQIIQIIIxxxxQ", b, 64)
    name = b[48:48 + max(0, min(16, n - 48))]
    end = name.find(b"\0")
    groups = (
        (0, lambda: [f"prog_type={c.fs('bpf_prog_types').xval(ptype, c.style)}", f"insn_cnt={cnt}",
                     f"insns={_addr(insns)}", f"license={_addr(lic)}"]),
        (24, lambda: [f"log_level={log_level}", f"log_size={log_size}", f"log_buf={_addr(log_buf)}"]),
        (40, lambda: [f"kern_version={_kernel_version(c, kver)}"]),
        (44, lambda: [f"prog_flags={c.fs('bpf_prog_flags').flags(pflags, c.style)}"]),
        (48, lambda: [f"prog_name={quote(name[:end]) if end >= 0 else quote(name) + '...'}"]),
        (64, lambda: [f"prog_ifindex={_ifindex(ifindex, c.style)}"]),
        (68, lambda: [f"expected_attach_type={c.fs('bpf_attach_type').xval(attach, c.style)}"]),
        (72, lambda: [f"prog_btf_fd={_fd(c, btf_fd)}", f"func_info_rec_size={fi_rec}", f"func_info={_addr(fi)}",
                      f"func_info_cnt={fi_cnt}", f"line_info_rec_size={li_rec}", f"line_info={_addr(li)}",
                      f"line_info_cnt={li_cnt}"]),
        (108, lambda: [f"attach_btf_id={btf_id}"]),
        (112, lambda: [f"attach_prog_fd={_fd(c, prog_fd)}"]),
        (120, lambda: [f"fd_array={_addr(fd_array)}"]),
    )
    p: list[str] = []
    for off, fields in groups:
        if off and n <= off:
            break
        p += fields()
    return p


# command -> (printer, the size of the struct strace knows for it)
_DECODERS = {BPF_PROG_LOAD: (_prog_load, _PROG_LOAD_SIZE)}


def _extra(c: C, b: bytes, size: int, known: int) -> list[str]:
    """Bytes past the struct strace knows: printed when any is nonzero."""
    if size <= known:
        return []
    rest = b[known:size]
    if not any(rest):
        return []
    if c.abbrev:
        return ["..."]
    return [f"extra_data={quote(rest, force_hex=True)}" + comment(f"bytes {known}..{size - 1}")]


def _attr(c: C) -> str:
    cmd, size = c.uint(0), c.uint(2)
    dec = _DECODERS.get(cmd)
    v = c.m(1, 0)
    b = bytes(v) if isinstance(v, (bytes, bytearray)) else b""
    if dec is None or size == 0 or size > PAGE or not c.ulong(1) or len(b) < min(size, 256):
        return c.ptr(1)
    printer, known = dec
    n = min(size, known)
    fields = printer(c, b[:n].ljust(known, b"\0"), n)
    return "{" + ", ".join(fields + _extra(c, b, min(size, len(b)), known)) + "}"


@syscall("bpf")
def _bpf(c: C):
    return [c.xval(0, "bpf_cmds"), _attr(c), str(c.uint(2))]
