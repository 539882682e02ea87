"""stat family: struct stat, statx, statfs, getdents (x86_64 layouts)."""

from __future__ import annotations

import struct
import time

from ._core import C, filemode, struct as register_struct, styled, syscall
from ._fmt import FlagSet, comment, hexa


def makedev(dev: int) -> str:
    major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF)
    minor = (dev & 0xFF) | ((dev >> 12) & ~0xFF)
    return f"makedev({hexa(major)}, {hexa(minor)})"


def _time(sec: int, nsec: int, name: str) -> list[str]:
    if (not sec and not nsec) or not 0 <= nsec <= 999999999:
        return [f"{name}={sec}", f"{name}_nsec={nsec}"]  # strace dates only a valid, non-zero time
    try:
        t = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(sec))
        z = time.strftime("%z", time.localtime(sec))
        stamp = f"{t}.{nsec:09d}{z}" if nsec else f"{t}{z}"
        return [f"{name}={sec}" + comment(stamp), f"{name}_nsec={nsec}"]
    except (OverflowError, OSError, ValueError):
        return [f"{name}={sec}", f"{name}_nsec={nsec}"]


_STAT = struct.Struct("<QQQIII4xQqqqqqqqqq")  # x86_64 struct stat


_STATS: dict = {}  # (bytes, abbrev, style) -> text: every exec stats the same few files


@register_struct("stat")
def stat_text(c: C, b: bytes, i: int) -> str:
    key = (b, c.abbrev, c.style)
    text = _STATS.get(key)
    if text is None:
        text = _stat_text(c, b)
        if len(_STATS) >= 1024:
            _STATS.clear()
        _STATS[key] = text
    return text


def _stat_text(c: C, b: bytes) -> str:
    (dev, ino, nlink, mode, uid, gid, rdev, size, blksize, blocks,
     at, atn, mt, mtn, ct, ctn) = _STAT.unpack_from(b)
    isdev = (mode & 0o170000) in (0o20000, 0o60000)
    if c.abbrev:
        second = f"st_rdev={styled(hexa(rdev), makedev(rdev), c.style)}" if isdev else f"st_size={size}"
        return f"{{st_mode={filemode(mode, c.style)}, {second}, ...}}"
    p = [f"st_dev={styled(hexa(dev), makedev(dev), c.style)}", f"st_ino={ino}", f"st_mode={filemode(mode, c.style)}",
         f"st_nlink={nlink}", f"st_uid={uid}", f"st_gid={gid}", f"st_blksize={blksize}", f"st_blocks={blocks}",
         f"st_rdev={styled(hexa(rdev), makedev(rdev), c.style)}" if isdev else f"st_size={size}"]
    p += _time(at, atn, "st_atime") + _time(mt, mtn, "st_mtime") + _time(ct, ctn, "st_ctime")
    return "{" + ", ".join(p) + "}"


def _statx_time(b: bytes, off: int, name: str) -> str:
    sec, nsec = struct.unpack_from("<qI", b, off)
    t = f"{name}={{tv_sec={sec}, tv_nsec={nsec}}}"
    if sec or nsec:
        t += _time(sec, nsec, "x")[0][len(f"x={sec}"):]
    return t


# STATX_* bits that say which fields the kernel filled
_SX_TYPE, _SX_MODE, _SX_NLINK, _SX_UID, _SX_GID, _SX_ATIME, _SX_MTIME, _SX_CTIME = 1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80
_SX_INO, _SX_SIZE, _SX_BLOCKS, _SX_BTIME, _SX_MNT_ID, _SX_DIOALIGN = 0x100, 0x200, 0x400, 0x800, 0x1000, 0x2000


@register_struct("statx")
def statx_text(c: C, b: bytes, i: int) -> str:
    """struct statx as strace prints it: a field only when stx_mask says
    the kernel filled it (the ids, mode, inode, size, blocks, times, mount
    id, DIO alignment)."""
    mask, blksize, attrs, nlink, uid, gid, mode = struct.unpack_from("<IIQIIIH", b)
    ino, size, blocks, amask = struct.unpack_from("<QQQQ", b, 32)
    fs = c.fs
    full = not c.abbrev

    def ident(v: int) -> str:
        return "-1" if v == 0xFFFFFFFF else str(v)

    p = [f"stx_mask={fs('statx_mask').flags(mask, c.style)}"]
    if full:
        p.append(f"stx_blksize={blksize}")
    p.append(f"stx_attributes={fs('statx_attrs').flags(attrs, c.style)}")
    if full:
        p += [f"stx_nlink={nlink}"] if mask & _SX_NLINK else []
        p += [f"stx_uid={ident(uid)}"] if mask & _SX_UID else []
        p += [f"stx_gid={ident(gid)}"] if mask & _SX_GID else []
    if mask & (_SX_TYPE | _SX_MODE):
        p.append(f"stx_mode={filemode(mode, c.style)}")
    if full and mask & _SX_INO:
        p.append(f"stx_ino={ino}")
    if mask & _SX_SIZE:
        p.append(f"stx_size={size}")
    if not full:
        return "{" + ", ".join(p + ["..."]) + "}"
    if mask & _SX_BLOCKS:
        p.append(f"stx_blocks={blocks}")
    p.append(f"stx_attributes_mask={fs('statx_attrs').flags(amask, c.style)}")
    p += [_statx_time(b, off, n) for n, off, bit in (("stx_atime", 64, _SX_ATIME), ("stx_btime", 80, _SX_BTIME),
                                                     ("stx_ctime", 96, _SX_CTIME), ("stx_mtime", 112, _SX_MTIME))
          if mask & bit]
    rmaj, rmin, dmaj, dmin = struct.unpack_from("<IIII", b, 128)
    p += [f"stx_rdev_major={rmaj}", f"stx_rdev_minor={rmin}", f"stx_dev_major={dmaj}", f"stx_dev_minor={dmin}"]
    if mask & _SX_MNT_ID:
        p.append(f"stx_mnt_id={hexa(struct.unpack_from('<Q', b, 144)[0])}")
    if mask & _SX_DIOALIGN:
        mem, off = struct.unpack_from("<II", b, 152)
        p += [f"stx_dio_mem_align={mem}", f"stx_dio_offset_align={off}"]
    return "{" + ", ".join(p) + "}"


@syscall("statx")
def _statx(c: C):
    fl = c.uint(2)
    # the sync type bits as flags (0x6000 is both), then the AT_* flags; no comments
    sync = c.fs("statx_sync").flags(fl & 0x6000).split(" /* ")[0]
    rest = fl & ~0x6000
    f = sync + ("|" + c.fs("at_flags").flags(rest).split(" /* ")[0] if rest else "")
    if c.style == "raw":
        f = hexa(fl)
    return [c.dirfd(0), c.path(1), f, c.flags(3, "statx_mask"), c.outstruct(4, "statx")]


_FS_MAGIC = {0xEF53: "EXT2_SUPER_MAGIC", 0x01021994: "TMPFS_MAGIC", 0x9FA0: "PROC_SUPER_MAGIC",
             0x62656572: "SYSFS_MAGIC", 0x794C7630: "OVERLAYFS_SUPER_MAGIC", 0x58465342: "XFS_SUPER_MAGIC",
             0x9123683E: "BTRFS_SUPER_MAGIC", 0x63677270: "CGROUP2_SUPER_MAGIC", 0x1CD1: "DEVPTS_SUPER_MAGIC",
             0x27E0EB: "CGROUP_SUPER_MAGIC", 0x6969: "NFS_SUPER_MAGIC", 0x65735546: "FUSE_SUPER_MAGIC"}


_ST_FLAGS = [("ST_RDONLY", 1), ("ST_NOSUID", 2), ("ST_NODEV", 4), ("ST_NOEXEC", 8), ("ST_SYNCHRONOUS", 16),
             ("ST_VALID", 32), ("ST_MANDLOCK", 64), ("ST_NOATIME", 1024), ("ST_NODIRATIME", 2048),
             ("ST_RELATIME", 4096), ("ST_NOSYMFOLLOW", 8192)]


@register_struct("statfs")
def statfs_text(c: C, b: bytes, i: int) -> str:
    from ._fmt import FlagSet

    (ftype, bsize, blocks, bfree, bavail, files, ffree, f0, f1, namelen, frsize, flags) = struct.unpack_from("<qqQQQQQiiqqq", b)
    t = _FS_MAGIC.get(ftype, hexa(ftype))
    fl = FlagSet("st", _ST_FLAGS, "ST_???").flags(flags)
    return (f"{{f_type={t}, f_bsize={bsize}, f_blocks={blocks}, f_bfree={bfree}, f_bavail={bavail}, "
            f"f_files={files}, f_ffree={ffree}, f_fsid={{val=[{hexa(f0 & 0xFFFFFFFF)}, {hexa(f1 & 0xFFFFFFFF)}]}}, "
            f"f_namelen={namelen}, f_frsize={frsize}, f_flags={fl}}}")


_DT = {0: "DT_UNKNOWN", 1: "DT_FIFO", 2: "DT_CHR", 4: "DT_DIR", 6: "DT_BLK", 8: "DT_REG", 10: "DT_LNK", 12: "DT_SOCK"}
_DT_SET = FlagSet("dirent_types", sorted(((n, v) for v, n in _DT.items()), key=lambda x: x[1]), "DT_???")


@syscall("getdents64", "getdents", head=lambda c: [c.fd(0)])
def _getdents(c: C):
    n = c.uint(2)
    if not c.ok:
        return [c.ptr(1), str(n)]
    b = c.m(1, 1)
    if not isinstance(b, (bytes, bytearray)) or len(b) < c.rval:
        return [c.ptr(1), str(n)]
    ents, off = [], 0
    d64 = c.name == "getdents64"
    while off + 19 <= c.rval:
        if d64:
            ino, doff, reclen, typ = struct.unpack_from("<QqHB", b, off)
            name = bytes(b[off + 19 : off + reclen]).split(b"\0", 1)[0]
        else:
            ino, doff, reclen = struct.unpack_from("<QqH", b, off)
            name = bytes(b[off + 18 : off + reclen - 1]).split(b"\0", 1)[0]
            typ = b[off + reclen - 1]
        if reclen == 0:
            break
        ents.append((ino, doff, reclen, typ, name))
        off += reclen
    if c.abbrev:
        return [f"{c.ptr(1)} /* {len(ents)} entries */", str(n)]
    from ._fmt import quote

    # getdents64's d_type comes before the name; getdents keeps it in the
    # record's last byte, and strace prints it after the name
    order = ("{{d_ino={0}, d_off={1}, d_reclen={2}, d_type={3}, d_name={4}}}" if d64
             else "{{d_ino={0}, d_off={1}, d_reclen={2}, d_name={4}, d_type={3}}}")
    items = [order.format(e[0], e[1], e[2], _DT_SET.xval(e[3], c.style), quote(e[4])) for e in ents]
    return ["[" + ", ".join(items) + "]", str(n)]
