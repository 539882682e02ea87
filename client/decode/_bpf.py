"""bpf(2): the attribute union by command, printed from bpf.toml's fields.

The table's attr is `buf[in, len=arg2, bpf_attr]`: the size argument's
bytes (a page at most) read at entry as far as they can be; its fetch rules read, by
command, the strings behind its pointers (DEREF), its fds (FD_AT) and, for
BPF_OBJ_GET_INFO_BY_FD, the attr again at exit. strace reads min(size, the
command's struct) bytes of it, zeroes the rest, and stops printing at the
first field group the size does not reach (a field added in a later
kernel); bytes past the struct it knows print as `extra_data` when any is
nonzero (`...` when abbreviating). An attr it cannot read (size 0, above a
page, or memory that ends first) prints as its address, and so does the
attr of a command bpf.toml does not describe.
"""

from __future__ import annotations

import os
from functools import lru_cache

from ._core import C, _ret_fd, syscall
from ._fmt import comment, hexa, quote, quote_cstr
from ._ioctl_loop import makedev
from ._netlink_msgs import _ifindex
from tracerd._wire import fd_at_slot

PAGE = 4096
# the commands that return a new fd (`= 4<anon_inode:bpf-map>` under -y)
_FD_CMDS = frozenset({0, 5, 7, 13, 14, 17, 18, 19, 28, 30, 33})
_WIDTH = {"u64": 8, "x64": 8, "ptr": 8, "cstr": 8, "path": 8, "u32arr": 8, "bytes": 8, "iterinfo": 8, "insns": 8, "strs": 8, "x64arr": 8, "logbuf": 8, "infoptr": 8, "dev": 8}


def _fields(text: str) -> list:
    """"name:kind[set]@off, ..." -> [(name, kind, set, off)]."""
    out = []
    for f in text.split(","):
        name, rest = f.strip().split(":", 1)
        kind, off = rest.rsplit("@", 1)
        kind, _, fset = kind.partition("[")
        off, _, cond = off.partition("?")  # `?O&M`: only when the u32 at O has a bit of M
        if cond:
            co, cm = cond.split("&")
            fset = (int(co), int(cm, 0))
        out.append((name, kind, fset if cond else fset.rstrip("]"), int(off)))
    return out


@lru_cache(maxsize=None)
def _commands() -> dict:
    """nr -> (struct size, wrapper name or None, [(first offset, [(name, kind, set, off)])]),
    and "info" -> {fd kind: (size, fields)}."""
    from tracerd.bpfgen._cache import cached_toml

    data = cached_toml(os.path.join(os.path.dirname(os.path.abspath(__file__)), "bpf.toml"), "bpf-")
    out = {}
    for spec in data["cmd"].values():
        groups = [(fs[0][3], fs) for fs in map(_fields, spec["groups"])]
        union = None
        if "union" in spec:  # by the u32 at `at`: (size, wrap, groups)
            u = dict(spec["union"])
            at = u.pop("at")
            union = (at, {k: (e["size"], e.get("wrap"), [(fs[0][3], fs) for fs in map(_fields, e["groups"])],
                              e.get("exact")) for k, e in u.items()})
        out[spec["nr"]] = (spec["size"], spec.get("wrap"), groups, union)
    out["info"] = {k: (v["size"], _fields(v["fields"])) for k, v in data.get("info", {}).items()}
    return out


def _info(c: C, b: bytes, v: int, off: int) -> str:
    """The info BPF_OBJ_GET_INFO_BY_FD wrote, by what its fd is, under -v."""
    data = c.deref(1, off, 1) if v and c.ok and not c.abbrev else None
    if not isinstance(data, (bytes, bytearray)):
        return _addr(v)
    fd = int.from_bytes(b[0:4], "little", signed=True)
    link = c.mem.get((0, fd_at_slot(1, 0)))
    link = link[0] if isinstance(link, list) else link
    if isinstance(link, (bytes, bytearray)):
        link = bytes(link).decode("utf-8", "replace")
    else:  # not named at the stop (no -y): as the decoder can name it now
        text = c.dec.fd_text(fd, c.tid, False) if c.dec._anyfd else ""
        link = text[text.find("<") + 1:-1] if "<" in text else ""
    spec = _commands()["info"].get(link.removeprefix("anon_inode:"))
    if spec is None:
        return _addr(v)
    size, fields = spec
    n = min(len(data), size)
    padded = bytes(data[:n]).ljust(size, b"\0")
    return "{" + ", ".join(t for name, kind, fset, o in fields
                           if o + _WIDTH.get(kind, 4) <= n and (t := _field(c, padded, n, name, kind, fset, o))) + "}"


def _addr(v: int) -> str:
    return hexa(v) if v else "NULL"


def _cstr(c: C, v: int, off: int, data, limit: int | None = None) -> str:
    """A string behind a pointer of the attr: cut at its NUL, else at -s
    (or the buffer's size) with `...`; unread memory is the address."""
    if not isinstance(data, (bytes, bytearray)):
        return _addr(v)
    s = c.opts.strsize
    end = data.find(b"\0", 0, s)
    if end >= 0:
        return quote(bytes(data[:end]), c.opts.xflag)
    n = s if limit is None else min(s, limit)
    if limit is None and len(data) <= s:
        return _addr(v)  # memory ended before the string did
    return quote(bytes(data[:n]), c.opts.xflag) + "..."


def _name(b: bytes, off: int, n: int) -> str:
    """A char[16] of which n - off bytes were given: cut at its NUL, `...`
    when the last byte given is not one."""
    avail = max(0, min(16, n - off))
    raw = b[off:off + avail]
    end = raw.find(b"\0", 0, max(avail - 1, 0))
    if end >= 0:
        return quote(raw[:end])
    return quote(raw[:avail - 1]) + ("..." if avail and raw[avail - 1] else "")


def _insn(c: C, x: int) -> str:
    """One eBPF instruction (8 bytes, little-endian)."""
    code, regs, off, imm = x & 0xFF, (x >> 8) & 0xFF, (x >> 16) & 0xFFFF, x >> 32
    cls, st = code & 7, c.style
    if cls < 4:  # loads and stores: size and mode
        parts = [c.fs("ebpf_size").xval(code & 0x18, st), c.fs("ebpf_mode").xval(code & 0xE0, st)]
    else:
        ops = "ebpf_jmp_op" if cls in (5, 6) else "ebpf_alu_op"
        parts = [c.fs("ebpf_src").xval(code & 8, st), c.fs(ops).xval(code & 0xF0, st)]
    regs_fs = c.fs("ebpf_regs")
    return (f"{{code={'|'.join([c.fs('ebpf_class').xval(cls, st)] + parts)}, dst_reg={regs_fs.xval(regs & 0xF, st)}, "
            f"src_reg={regs_fs.xval(regs >> 4, st)}, off={off - 0x10000 if off >> 15 else off}, "
            f"imm={hexa(imm) if imm else '0'}}}")


def _strs(c: C, v: int, off: int, count: int) -> str:
    """Strings behind an array of pointers (a DEREF_STRS op's list: each a
    C string, 0 for NULL, -errno unreadable), -s of them at most."""
    if not v:
        return "NULL"
    if not count:
        return "[]"
    data = c.deref(1, off, 0)
    if not isinstance(data, list) or (not data and count):
        return _addr(v)
    s = c.opts.strsize
    items = []
    for k, e in enumerate(data[:min(count, s)]):
        if isinstance(e, (bytes, bytearray)):
            items.append(quote_cstr(bytes(e), s, c.opts.xflag))
        elif e == 0:
            items.append("NULL")
        else:  # unreadable: the pointer itself is not kept
            items.append("???")
    if len(items) < min(count, s):
        items.append(f"... /* {hexa(v + 8 * len(items))} */")
    elif count > s:
        items.append("...")
    return "[" + ", ".join(items) + "]"


def _fd_now(c: C, v: int) -> str:
    """An fd in an array behind the attr: no op names it at the stop, so -y
    names it as the decoder can now."""
    v = v - (1 << 32) if v >> 31 else v
    return c.dec.fd_text(v, c.tid, False) if c.dec._anyfd and v >= 0 else str(v)


def _arr(c: C, v: int, off: int, count: int, phase: int, esize: int = 4, fmt=str) -> str:
    """An array behind a pointer of the attr (read by a DEREF at `phase`),
    -s elements at most; `... /* ADDR */` where memory ends; its address
    when nothing could be read (or, at exit, the call failed)."""
    if not v:
        return "NULL"
    if not count:
        return "[]"
    data = c.deref(1, off, phase) if phase == 0 or c.ok else None
    if not isinstance(data, (bytes, bytearray)) or (not data and count):
        return _addr(v)
    s = c.opts.strsize
    items = [fmt(int.from_bytes(data[k:k + esize], "little"))
             for k in range(0, min(len(data) // esize, count, s) * esize, esize)]
    if len(items) < min(count, s):
        items.append(f"... /* {hexa(v + esize * len(items))} */")
    elif count > s:
        items.append("...")
    return "[" + ", ".join(items) + "]"


def _field(c: C, b: bytes, n: int, name: str, kind: str, fset, off: int) -> str:
    if isinstance(fset, tuple):  # a condition on another field
        if not int.from_bytes(b[fset[0]:fset[0] + 4], "little") & fset[1]:
            return ""
        fset = ""
    v = int.from_bytes(b[off:off + _WIDTH.get(kind, 4)], "little")
    if kind in ("u32", "u64"):
        text = str(v)
    elif kind == "s32":
        text = str(v - (1 << 32) if v >> 31 else v)
    elif kind in ("x32", "x64"):
        text = hexa(v) if v else "0"
    elif kind == "ptr":
        text = _addr(v)
    elif kind == "infoptr":
        text = _info(c, b, v, off)
    elif kind == "dev":
        text = makedev(v)
    elif kind == "fd":
        text = c.fd_in(1, off, v - (1 << 32) if v >> 31 else v)
    elif kind == "enum":
        text = c.fs(fset).xval(v, c.style)
    elif kind == "flags":
        text = c.fs(fset).flags(v, c.style)
    elif kind == "numa":
        text = str(v) + (comment("NUMA_NO_NODE") if v == 0xFFFFFFFF else "")
    elif kind == "name":
        text = _name(b, off, n)
    elif kind == "kver":
        kv = f"KERNEL_VERSION({v >> 16}, {(v >> 8) & 0xFF}, {v & 0xFF})"
        text = hexa(v) if c.style == "raw" else hexa(v) + comment(kv) if c.style == "verbose" else kv
    elif kind == "ifindex":
        text = _ifindex(v, c.style)
    elif kind == "path":
        data = c.deref(1, off, 0) if v else None
        end = data.find(b"\0") if isinstance(data, (bytes, bytearray)) else -1
        text = quote(bytes(data[:end]), c.opts.xflag) if end >= 0 else _addr(v)
    elif kind == "u32arr":
        after = c.m(1, 1)
        cnt = b[off + 8:off + 12] if not isinstance(after, (bytes, bytearray)) or len(after) < off + 12 else after[off + 8:off + 12]
        text = _arr(c, v, off, int.from_bytes(cnt, "little"), 1)
    elif kind == "insns":  # under -v: the instructions, else their address
        cnt = int.from_bytes(b[off - 4:off], "little")
        text = _addr(v) if c.abbrev else _arr(c, v, off, cnt, 0, 8, lambda x: _insn(c, x))
    elif kind == "iterinfo":
        cnt = int.from_bytes(b[off + 8:off + 12], "little")
        text = _arr(c, v, off, cnt, 0, 4, lambda x: f"{{map={{map_fd={_fd_now(c, x)}}}}}")
    elif kind == "strs":
        text = _strs(c, v, off, int.from_bytes(b[20:24], "little"))
    elif kind == "x64arr":
        cnt = int.from_bytes(b[20:24], "little")
        text = _arr(c, v, off, cnt, 0, 8, lambda x: hexa(x) if x else "0")
    elif kind == "bytes":
        data = c.deref(1, off, 0) if v else None
        size = int.from_bytes(b[off + 16:off + 20], "little")
        s = c.opts.strsize
        text = (quote(bytes(data[:min(size, s)]), c.opts.xflag) + ("..." if size > s else "")
                if isinstance(data, (bytes, bytearray)) and len(data) >= min(size, s) else _addr(v))
    elif kind == "cstr":
        text = _cstr(c, v, off, c.deref(1, off, 0) if v else None)
    elif kind == "logbuf":
        size = int.from_bytes(b[off - 4:off], "little")
        text = _cstr(c, v, off, c.deref(1, off, 0) if v else None, size)
    elif kind == "lenchg":
        text = str(v)
        after = c.m(1, 1) if c.exiting else None
        if isinstance(after, (bytes, bytearray)) and len(after) >= off + 4:
            w = int.from_bytes(after[off:off + 4], "little")
            if w != v:
                text += f" => {w}"
    else:
        raise ValueError(f"bpf.toml: unknown kind {kind!r}")
    return f"{name}={text}"


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
    spec = _commands().get(cmd)
    v = c.m(1, 0)
    b = bytes(v) if isinstance(v, (bytes, bytearray)) else b""
    if spec is None or size == 0 or size > PAGE or not c.ulong(1) or len(b) < size:
        return c.ptr(1)
    known, wrap, groups, union = spec
    inner, uwrap = None, None
    if union is not None:
        at, entries = union
        sel = int.from_bytes(b[at:at + 4].ljust(4, b"\0"), "little")
        ent = entries.get(str(sel)) or entries["default"]
        if ent[3] is None or ent[3] == size:
            known, uwrap, inner = ent[:3]
    n = min(size, known)
    padded = b[:n].ljust(known, b"\0")
    fields = _groups(c, padded, n, groups)
    if inner and n > inner[0][0]:
        more = _groups(c, padded, n, inner)
        fields += [f"{uwrap}={{{', '.join(more)}}}"] if uwrap else more
    if wrap:
        fields = [f"{wrap}={{{', '.join(fields)}}}"]
    return "{" + ", ".join(fields + _extra(c, b, min(size, len(b)), known)) + "}"


def _groups(c: C, padded: bytes, n: int, groups: list) -> list[str]:
    """The fields of the groups that n bytes reach."""
    fields: list[str] = []
    for first, group in groups:
        if first and n <= first:
            break
        fields += [t for t in (_field(c, padded, n, *f) for f in group) if t]
    return fields


def _ret(c: C) -> str:
    return _ret_fd(c, c.rval) if c.uint(0) in _FD_CMDS and c.dec._anyfd else str(c.rval)


@syscall("bpf", ret=_ret)
def _bpf(c: C):
    return [c.xval(0, "bpf_cmds"), _attr(c), str(c.uint(2))]
