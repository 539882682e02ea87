"""quotactl's XFS structs, as strace prints them: fs_disk_quota (Q_XGETQUOTA,
Q_XGETNEXTQUOTA at exit, Q_XSETQLIM at entry), fs_quota_stat (Q_XGETQSTAT)
and fs_quota_statv (Q_XGETQSTATV). Abbreviated, the quota shows its limits
and counts, the stats their version only; `-v` shows every field."""

from __future__ import annotations

import struct

from ._core import C

DISK_QUOTA_SIZE, QUOTA_STAT_SIZE, QUOTA_STATV_SIZE = 112, 80, 160

_LIMITS = ("d_blk_hardlimit", "d_blk_softlimit", "d_ino_hardlimit", "d_ino_softlimit", "d_bcount", "d_icount")


def disk_quota(c: C, b: bytes) -> str:
    version, flags, mask, did = struct.unpack_from("<bBHI", b)
    p = [f"d_version={version}", f"d_flags={c.fs('xfs_dqblk_flags').flags(flags, c.style)}",
         f"d_fieldmask={mask:#x}" if mask else "d_fieldmask=0", f"d_id={did}"]
    p += [f"{n}={v}" for n, v in zip(_LIMITS, struct.unpack_from("<6Q", b, 8))]
    if c.abbrev:
        return "{" + ", ".join(p + ["..."]) + "}"
    itimer, btimer, iwarns, bwarns = struct.unpack_from("<iiHH", b, 56)
    rhard, rsoft, rcount, rtimer, rwarns = struct.unpack_from("<QQQiH", b, 72)
    p += [f"d_itimer={itimer}", f"d_btimer={btimer}", f"d_iwarns={iwarns}", f"d_bwarns={bwarns}",
          f"d_rtb_hardlimit={rhard}", f"d_rtb_softlimit={rsoft}", f"d_rtbcount={rcount}", f"d_rtbtimer={rtimer}",
          f"d_rtbwarns={rwarns}"]
    return "{" + ", ".join(p) + "}"


def _filestat(b: bytes, off: int) -> str:
    ino, nblks, next_ = struct.unpack_from("<QQI", b, off)
    return f"{{qfs_ino={ino}, qfs_nblks={nblks}, qfs_nextents={next_}}}"


def _limits(b: bytes, off: int) -> list:
    bt, it, rt, bw, iw = struct.unpack_from("<iiiHH", b, off)
    return [f"qs_btimelimit={bt}", f"qs_itimelimit={it}", f"qs_rtbtimelimit={rt}", f"qs_bwarnlimit={bw}",
            f"qs_iwarnlimit={iw}"]


def quota_stat(c: C, b: bytes, v: bool) -> str:
    """fs_quota_stat, or (v) fs_quota_statv, whose incore count comes before
    the file stats and which has a project quota file too."""
    p = [f"qs_version={struct.unpack_from('<b', b)[0]}"]
    if c.abbrev:
        return "{" + ", ".join(p + ["..."]) + "}"
    p.append(f"qs_flags={c.fs('xfs_quota_flags').flags(struct.unpack_from('<H', b, 2)[0], c.style)}")
    if v:
        p.append(f"qs_incoredqs={struct.unpack_from('<I', b, 4)[0]}")
        p += [f"qs_{n}quota={_filestat(b, off)}" for n, off in (("u", 8), ("g", 32), ("p", 56))]
        p += _limits(b, 80)
    else:
        p += [f"qs_uquota={_filestat(b, 8)}", f"qs_gquota={_filestat(b, 32)}",
              f"qs_incoredqs={struct.unpack_from('<I', b, 56)[0]}"]
        p += _limits(b, 60)
    return "{" + ", ".join(p) + "}"
