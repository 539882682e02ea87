"""ioctl: request names (tty, socket, fs, and strace's names built from the
number), _IOC() for unknown ones; the argument by request: the family
modules (_ioctl_evdev, _ioctl_ptp, _ioctl_gpio, _ioctl_loop, _ioctl_uffd,
_ioctl_term, _ioctl_mtd) by request type, then the table of argument kinds
below."""

from __future__ import annotations

import struct

from ._core import C, syscall, struct as register_struct
from . import _ioctl_evdev, _ioctl_gpio, _ioctl_loop, _ioctl_mtd, _ioctl_ptp, _ioctl_term, _ioctl_uffd
from ._ioctl_util import arg_read, field_fd as _field_fd
from ._fmt import FlagSet, comment, errno_name, hexa, quote_buf
from ._kvm import kvm_arg, kvm_ret


@register_struct("winsize")
def winsize_text(c: C, b: bytes, i: int) -> str:
    r, col, x, y = struct.unpack_from("<HHHH", b)
    return f"{{ws_row={r}, ws_col={col}, ws_xpixel={x}, ws_ypixel={y}}}"


_IOC_DIR = {0: "_IOC_NONE", 1: "_IOC_WRITE", 2: "_IOC_READ", 3: "_IOC_READ|_IOC_WRITE"}


# requests the uapi scan (ioctls.toml) misses: defined as plain numbers
# (loop devices, SG_GET_ACCESS_COUNT) or through a family's own _IO wrapper (seccomp)
_EXTRA_NAMES = {
    0x4C00: "LOOP_SET_FD", 0x4C01: "LOOP_CLR_FD", 0x4C02: "LOOP_SET_STATUS", 0x4C03: "LOOP_GET_STATUS",
    0x4C04: "LOOP_SET_STATUS64", 0x4C05: "LOOP_GET_STATUS64", 0x4C06: "LOOP_CHANGE_FD",
    0x4C07: "LOOP_SET_CAPACITY", 0x4C08: "LOOP_SET_DIRECT_IO", 0x4C09: "LOOP_SET_BLOCK_SIZE",
    0x4C0A: "LOOP_CONFIGURE", 0x4C80: "LOOP_CTL_ADD", 0x4C81: "LOOP_CTL_REMOVE", 0x4C82: "LOOP_CTL_GET_FREE",
    0xC0481273: "BLKTRACESETUP",
    0x40082102: "SECCOMP_IOCTL_NOTIF_ID_VALID", 0x80082102: "SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR",
    0x40182103: "SECCOMP_IOCTL_NOTIF_ADDFD", 0x2289: "SG_GET_ACCESS_COUNT",
    # OpenZFS's (sys/fs/zfs.h, sys/kstat.h), which strace names too
    0x8100127D: "BLKZNAME", 0x4B01: "KSTAT_IOC_CHAIN_ID", 0x4B02: "KSTAT_IOC_READ", 0x4B03: "KSTAT_IOC_WRITE",
}
# ZFS_IOC_*: 'Z' << 8 counting up from POOL_CREATE, then from EVENTS_NEXT at 0x5A81
_ZFS = ("POOL_CREATE POOL_DESTROY POOL_IMPORT POOL_EXPORT POOL_CONFIGS POOL_STATS POOL_TRYIMPORT POOL_SCAN "
        "POOL_FREEZE POOL_UPGRADE POOL_GET_HISTORY VDEV_ADD VDEV_REMOVE VDEV_SET_STATE VDEV_ATTACH VDEV_DETACH "
        "VDEV_SETPATH VDEV_SETFRU OBJSET_STATS OBJSET_ZPLPROPS DATASET_LIST_NEXT SNAPSHOT_LIST_NEXT SET_PROP "
        "CREATE DESTROY ROLLBACK RENAME RECV SEND INJECT_FAULT CLEAR_FAULT INJECT_LIST_NEXT ERROR_LOG CLEAR "
        "PROMOTE SNAPSHOT DSOBJ_TO_DSNAME OBJ_TO_PATH POOL_SET_PROPS POOL_GET_PROPS SET_FSACL GET_FSACL SHARE "
        "INHERIT_PROP SMB_ACL USERSPACE_ONE USERSPACE_MANY USERSPACE_UPGRADE HOLD RELEASE GET_HOLDS "
        "OBJSET_RECVD_PROPS VDEV_SPLIT NEXT_OBJ DIFF TMP_SNAPSHOT OBJ_TO_STATS SPACE_WRITTEN SPACE_SNAPS "
        "DESTROY_SNAPS POOL_REGUID POOL_REOPEN SEND_PROGRESS LOG_HISTORY SEND_NEW SEND_SPACE CLONE BOOKMARK "
        "GET_BOOKMARKS DESTROY_BOOKMARKS RECV_NEW POOL_SYNC CHANNEL_PROGRAM LOAD_KEY UNLOAD_KEY CHANGE_KEY REMAP "
        "POOL_CHECKPOINT POOL_DISCARD_CHECKPOINT POOL_INITIALIZE POOL_TRIM REDACT GET_BOOKMARK_PROPS WAIT WAIT_FS "
        "VDEV_GET_PROPS VDEV_SET_PROPS").split()
_ZFS_EVENTS = "EVENTS_NEXT EVENTS_CLEAR EVENTS_SEEK NEXTBOOT JAIL UNJAIL SET_BOOTENV GET_BOOTENV".split()
_EXTRA_NAMES.update({0x5A00 + i: f"ZFS_IOC_{n}" for i, n in enumerate(_ZFS)})
_EXTRA_NAMES.update({0x5A81 + i: f"ZFS_IOC_{n}" for i, n in enumerate(_ZFS_EVENTS)})


_NAMES: dict[int, str | None] = {}


def _name(c: C, v: int) -> str | None:
    """The request's name: every name the hand-kept set, the uapi _IO*
    defines (ioctls.toml) and the few that scan misses give the value,
    joined by ` or ` in alphabetical order as strace's table lists them
    (`SNDCTL_TMR_START or TCSETS`)."""
    n = _NAMES.get(v, 0)
    if n != 0:
        return n
    names = set()
    for found in (c.fs("ioctl_cmds").lookup(v), c.fs("ioctl_names").lookup(v), _EXTRA_NAMES.get(v)):
        if found:
            names.update(found.split(" or "))
    n = " or ".join(sorted(names)) or None
    if len(_NAMES) < 4096:
        _NAMES[v] = n
    return n


def ioctl_cmd(c: C, v: int) -> str:
    if c.style == "raw":
        return hexa(v)
    n = _name(c, v)
    p = _ioctl_evdev.param_name(c, v)  # strace's names built from the number (`EVIOCGBIT(EV_KEY, 8)`) come first
    if p:
        n = f"{p} or {n}" if n else p
    if n:
        return hexa(v) + comment(n) if c.style == "verbose" else n
    d, size, typ, nr = v >> 30, (v >> 16) & 0x3FFF, (v >> 8) & 0xFF, v & 0xFF
    text = f"_IOC({_IOC_DIR[d]}, {hexa(typ)}, {hexa(nr)}, {hexa(size)})"
    return hexa(v) + comment(text) if c.style == "verbose" else text


# How the third argument of a request is printed, by request name: data, as
# strace's per-family ioctl decoders print them. A kind is
#   none       no third argument at all
#   uval       the value itself, unsigned decimal
#   in:FMT     a pointer to one FMT read at entry:  [5]
#   out:FMT    a pointer the call fills, read at exit (its address when the
#              call failed):  [4096]
#   in:FMT*2   a pointer to two of them:  [0, 4096]
# FMT is a struct module code: i int, I unsigned, H unsigned short, q/Q
# (signed/unsigned) 64 bits, l/L long. A request absent from this table is
# printed as strace prints what it does not decode: the argument in hex.
IOCTL_ARGS = {
    # block devices (linux/fs.h)
    "BLKRASET": "uval", "BLKFRASET": "uval",
    "BLKSECTGET": "out:H", "BLKROTATIONAL": "out:H",
    "BLKROGET": "out:i", "BLKBSZGET": "out:i", "BLKSSZGET": "out:i", "BLKALIGNOFF": "out:i",
    "BLKROSET": "in:i", "BLKBSZSET": "in:i",
    "BLKPBSZGET": "out:I", "BLKIOMIN": "out:I", "BLKIOOPT": "out:I", "BLKDISCARDZEROES": "out:I",
    "BLKGETZONESZ": "out:I", "BLKGETNRZONES": "out:I",
    "BLKRAGET": "out:l", "BLKFRAGET": "out:l", "BLKGETSIZE": "out:L",
    "BLKGETSIZE64": "out:Q", "BLKGETDISKSEQ": "out:Q",
    "BLKDISCARD": "in:Q*2", "BLKSECDISCARD": "in:Q*2", "BLKZEROOUT": "in:Q*2",
    "BLKRRPART": "none", "BLKFLSBUF": "none", "BLKTRACESTART": "none", "BLKTRACESTOP": "none",
    "BLKTRACETEARDOWN": "none",
    # ATA disks (linux/hdreg.h): unsigned longs read and written, the
    # geometry, a drive command and what it returned, identity strings
    "HDIO_GETGEO": "out:struct:hd_geometry", "HDIO_DRIVE_CMD": "hdio_drive_cmd",
    "HDIO_DRIVE_RESET": "xint*3", "HDIO_SCAN_HWIF": "xint*3",
    "HDIO_GET_IDENTITY": "outstr:512", "HDIO_OBSOLETE_IDENTITY": "outstr:142",
    "HDIO_GET_32BIT": "out:L", "HDIO_GET_ACOUSTIC": "out:L", "HDIO_GET_ADDRESS": "out:L", "HDIO_GET_DMA": "out:L",
    "HDIO_GET_KEEPSETTINGS": "out:L", "HDIO_GET_MULTCOUNT": "out:L", "HDIO_GET_NOWERR": "out:L",
    "HDIO_GET_UNMASKINTR": "out:L", "HDIO_GET_WCACHE": "out:L",
    "HDIO_GET_NICE": "out:struct:ide_nice", "HDIO_GET_BUSSTATE": "out:struct:busstate",
    "HDIO_SET_32BIT": "uval", "HDIO_SET_ACOUSTIC": "uval", "HDIO_SET_ADDRESS": "uval", "HDIO_SET_DMA": "uval",
    "HDIO_SET_KEEPSETTINGS": "uval", "HDIO_SET_MULTCOUNT": "uval", "HDIO_SET_NOWERR": "uval",
    "HDIO_SET_PIO_MODE": "uval", "HDIO_SET_UNMASKINTR": "uval", "HDIO_SET_WCACHE": "uval",
    "HDIO_UNREGISTER_HWIF": "uval", "HDIO_SET_NICE": "ide_nice", "HDIO_SET_BUSSTATE": "busstate",
    # counters (linux/counter.h)
    "COUNTER_ADD_WATCH_IOCTL": "in:struct:counter_watch", "COUNTER_ENABLE_EVENTS_IOCTL": "none",
    "COUNTER_DISABLE_EVENTS_IOCTL": "none",
    # modem lines (asm-generic/termios.h)
    "TIOCMGET": "out:struct:tiocm", "TIOCMBIS": "in:struct:tiocm", "TIOCMBIC": "in:struct:tiocm",
    "TIOCMSET": "in:struct:tiocm",
    # perf events (linux/perf_event.h)
    "PERF_EVENT_IOC_ENABLE": "perf_flags", "PERF_EVENT_IOC_DISABLE": "perf_flags", "PERF_EVENT_IOC_RESET": "perf_flags",
    "PERF_EVENT_IOC_REFRESH": "ival", "PERF_EVENT_IOC_SET_OUTPUT": "ival", "PERF_EVENT_IOC_SET_BPF": "ival",
    "PERF_EVENT_IOC_PAUSE_OUTPUT": "uval", "PERF_EVENT_IOC_PERIOD": "in:Q", "PERF_EVENT_IOC_ID": "out:Q",
    "PERF_EVENT_IOC_SET_FILTER": "cstr", "PERF_EVENT_IOC_QUERY_BPF": "perf_query_bpf",
    # seccomp user notification (linux/seccomp.h)
    "SECCOMP_IOCTL_NOTIF_RECV": "seccomp_notif", "SECCOMP_IOCTL_NOTIF_SEND": "in:struct:seccomp_resp",
    "SECCOMP_IOCTL_NOTIF_ID_VALID": "in:struct:xu64", "SECCOMP_IOCTL_NOTIF_ID_VALID_WRONG_DIR": "in:struct:xu64",
    "SECCOMP_IOCTL_NOTIF_ADDFD": "in:struct:seccomp_addfd",
    # infrared remotes (linux/lirc.h): unsigned ints, modes, features
    "LIRC_GET_FEATURES": "out:struct:lirc_features", "LIRC_GET_SEND_MODE": "out:struct:lirc_mode",
    "LIRC_GET_REC_MODE": "out:struct:lirc_mode", "LIRC_SET_SEND_MODE": "in:struct:lirc_mode",
    "LIRC_SET_REC_MODE": "in:struct:lirc_mode", "LIRC_SET_TRANSMITTER_MASK": "in:struct:xu32",
    "LIRC_GET_REC_RESOLUTION": "out:I", "LIRC_GET_MIN_TIMEOUT": "out:I", "LIRC_GET_MAX_TIMEOUT": "out:I",
    "LIRC_GET_LENGTH": "out:I", "LIRC_GET_REC_TIMEOUT": "out:I",
    "LIRC_SET_SEND_CARRIER": "in:I", "LIRC_SET_REC_CARRIER": "in:I", "LIRC_SET_SEND_DUTY_CYCLE": "in:I",
    "LIRC_SET_REC_TIMEOUT": "in:I", "LIRC_SET_REC_TIMEOUT_REPORTS": "in:I", "LIRC_SET_MEASURE_CARRIER_MODE": "in:I",
    "LIRC_SET_REC_CARRIER_RANGE": "in:I", "LIRC_SET_WIDEBAND_RECEIVER": "in:I",
    # network block devices (linux/nbd.h)
    "NBD_DISCONNECT": "none", "NBD_CLEAR_SOCK": "none", "NBD_DO_IT": "none", "NBD_CLEAR_QUE": "none",
    "NBD_PRINT_DEBUG": "none", "NBD_SET_SOCK": "fd", "NBD_SET_BLKSIZE": "uval", "NBD_SET_SIZE": "uval",
    "NBD_SET_SIZE_BLOCKS": "uval", "NBD_SET_TIMEOUT": "uval", "NBD_SET_FLAGS": "nbd_flags",
    # SCSI generic (scsi/sg.h): ints by pointer, a few by value. SG_IO's
    # v3/v4 headers and the request table are not decoded: NULL or the address
    "SG_GET_TIMEOUT": "none", "SG_SET_TRANSFORM": "xval32",
    "SG_NEXT_CMD_LEN": "in:i", "SG_SET_COMMAND_Q": "in:i", "SG_SET_DEBUG": "in:i", "SG_SET_FORCE_LOW_DMA": "in:i",
    "SG_SET_FORCE_PACK_ID": "in:i", "SG_SET_KEEP_ORPHAN": "in:i", "SG_SET_RESERVED_SIZE": "in:i",
    "SG_SET_TIMEOUT": "in:i",
    "SG_EMULATED_HOST": "out:i", "SG_GET_ACCESS_COUNT": "out:i", "SG_GET_COMMAND_Q": "out:i",
    "SG_GET_KEEP_ORPHAN": "out:i", "SG_GET_LOW_DMA": "out:i", "SG_GET_NUM_WAITING": "out:i", "SG_GET_PACK_ID": "out:i",
    "SG_GET_RESERVED_SIZE": "out:i", "SG_GET_SG_TABLESIZE": "out:i", "SG_GET_TRANSFORM": "out:i",
    "SG_GET_VERSION_NUM": "out:i", "SG_SCSI_RESET": "in:struct:sg_scsi_reset",
    "SG_GET_SCSI_ID": "out:struct:sg_scsi_id", "SG_GET_REQUEST_TABLE": "addr", "SG_IO": "addr",
    # decoded by strace, structs not here: NULL or the address
    "BLKPG": "addr", "BLKTRACESETUP": "addr", "PERF_EVENT_IOC_MODIFY_ATTRIBUTES": "addr",
    # terminals and files (asm-generic/ioctls.h)
    "TIOCGPTN": "out:I", "TIOCSPTLCK": "in:i", "TIOCGPTLCK": "out:i", "TIOCGPKT": "out:i",
    "TIOCGEXCL": "out:i", "TIOCGDEV": "out:I",
    "FIOCLEX": "none", "FIONCLEX": "none", "TIOCNOTTY": "none", "TIOCEXCL": "none", "TIOCNXCL": "none",
    "TIOCSPGRP": "in:i", "TIOCGPGRP": "out:i", "FIONREAD": "out:i", "FIONBIO": "in:i", "TIOCGSID": "out:i",
    "FIOASYNC": "in:i", "FIOQSIZE": "out:q",
    # filesystems (linux/fs.h)
    "FIFREEZE": "none", "FITHAW": "none",
    "FS_IOC32_GETFLAGS": "out:struct:fsflags", "FS_IOC32_SETFLAGS": "in:struct:fsflags",
    "FS_IOC_GETFLAGS": "out:struct:fsflags", "FS_IOC_SETFLAGS": "in:struct:fsflags",
    "FITRIM": "in:struct:fstrim_range", "FS_IOC_FSSETXATTR": "in:struct:fsxattr_in",
    "FS_IOC_FSGETXATTR": "out:struct:fsxattr_out", "FS_IOC_FIEMAP": "fiemap",
    # watchdogs (linux/watchdog.h)
    "WDIOC_GETSTATUS": "out:i", "WDIOC_GETBOOTSTATUS": "out:i", "WDIOC_GETTEMP": "out:i",
    "WDIOC_GETTIMEOUT": "out:i", "WDIOC_GETPRETIMEOUT": "out:i", "WDIOC_GETTIMELEFT": "out:i",
    "WDIOC_SETTIMEOUT": "in:i", "WDIOC_SETPRETIMEOUT": "in:i", "WDIOC_KEEPALIVE": "none",
    # the random device (linux/random.h)
    "RNDGETENTCNT": "out:i", "RNDADDTOENTCNT": "in:i", "RNDZAPENTCNT": "none", "RNDCLEARPOOL": "none",
    "RNDRESEEDCRNG": "none", "RNDADDENTROPY": "rand_pool_info",
    # namespaces (linux/nsfs.h)
    "NS_GET_USERNS": "none", "NS_GET_PARENT": "none", "NS_GET_NSTYPE": "none", "NS_GET_OWNER_UID": "out:I",
    # inotify (linux/inotify.h): the next watch descriptor, a value
    "INOTIFY_IOC_SETNEXTWD": "ival",
    # real-time clocks (linux/rtc.h)
    "RTC_AIE_ON": "none", "RTC_AIE_OFF": "none", "RTC_UIE_ON": "none", "RTC_UIE_OFF": "none",
    "RTC_PIE_ON": "none", "RTC_PIE_OFF": "none", "RTC_WIE_ON": "none", "RTC_WIE_OFF": "none",
    "RTC_IRQP_READ": "out:L", "RTC_IRQP_SET": "uval", "RTC_EPOCH_READ": "out:L", "RTC_EPOCH_SET": "uval",
    "RTC_VL_CLR": "none", "RTC_RD_TIME": "out:struct:rtc_time", "RTC_ALM_READ": "out:struct:rtc_time",
    "RTC_SET_TIME": "in:struct:rtc_time", "RTC_ALM_SET": "in:struct:rtc_time",
    "RTC_WKALM_RD": "out:struct:rtc_wkalrm", "RTC_WKALM_SET": "in:struct:rtc_wkalrm",
    "RTC_PLL_GET": "out:struct:rtc_pll_info", "RTC_PLL_SET": "in:struct:rtc_pll_info",
    "RTC_VL_READ": "out:struct:rtc_vl", "RTC_PARAM_GET": "rtc_param_get", "RTC_PARAM_SET": "rtc_param_set",
}
# video4linux (linux/videodev2.h): the requests strace decodes print a null
# argument as NULL (their structs are not decoded here: the address)
IOCTL_ARGS.update({f"VIDIOC_{n}": "addr" for n in (
    "CREATE_BUFS CROPCAP DQBUF ENUMINPUT ENUMSTD ENUM_FMT ENUM_FRAMEINTERVALS ENUM_FRAMESIZES G_CROP G_CTRL "
    "G_EXT_CTRLS G_FBUF G_FMT G_INPUT G_PARM G_STD G_TUNER QBUF QUERYBUF QUERYCAP QUERYCTRL QUERY_EXT_CTRL "
    "REQBUFS STREAMOFF STREAMON S_CROP S_CTRL S_EXT_CTRLS S_FBUF S_FMT S_INPUT S_PARM S_STD S_TUNER "
    "TRY_EXT_CTRLS TRY_FMT").split()})

# flag sets of the argument structs (x86_64 values of the uapi headers, in
# strace's printing order)
_FS_FLAGS = FlagSet("fs_flags", [
    ("FS_SECRM_FL", 0x1), ("FS_UNRM_FL", 0x2), ("FS_COMPR_FL", 0x4), ("FS_SYNC_FL", 0x8),
    ("FS_IMMUTABLE_FL", 0x10), ("FS_APPEND_FL", 0x20), ("FS_NODUMP_FL", 0x40), ("FS_NOATIME_FL", 0x80),
    ("FS_DIRTY_FL", 0x100), ("FS_COMPRBLK_FL", 0x200), ("FS_NOCOMP_FL", 0x400), ("FS_ENCRYPT_FL", 0x800),
    ("FS_INDEX_FL", 0x1000), ("FS_IMAGIC_FL", 0x2000), ("FS_JOURNAL_DATA_FL", 0x4000),
    ("FS_NOTAIL_FL", 0x8000), ("FS_DIRSYNC_FL", 0x10000), ("FS_TOPDIR_FL", 0x20000),
    ("FS_HUGE_FILE_FL", 0x40000), ("FS_EXTENT_FL", 0x80000), ("FS_VERITY_FL", 0x100000),
    ("FS_EA_INODE_FL", 0x200000), ("FS_EOFBLOCKS_FL", 0x400000), ("FS_NOCOW_FL", 0x800000),
    ("FS_DAX_FL", 0x2000000), ("FS_INLINE_DATA_FL", 0x10000000), ("FS_PROJINHERIT_FL", 0x20000000),
    ("FS_CASEFOLD_FL", 0x40000000), ("FS_RESERVED_FL", 0x80000000)], "FS_???_FL", "include/uapi/linux/fs.h")
_FS_XFLAGS = FlagSet("fs_xflags", [
    ("FS_XFLAG_REALTIME", 0x1), ("FS_XFLAG_PREALLOC", 0x2), ("FS_XFLAG_IMMUTABLE", 0x8),
    ("FS_XFLAG_APPEND", 0x10), ("FS_XFLAG_SYNC", 0x20), ("FS_XFLAG_NOATIME", 0x40), ("FS_XFLAG_NODUMP", 0x80),
    ("FS_XFLAG_RTINHERIT", 0x100), ("FS_XFLAG_PROJINHERIT", 0x200), ("FS_XFLAG_NOSYMLINKS", 0x400),
    ("FS_XFLAG_EXTSIZE", 0x800), ("FS_XFLAG_EXTSZINHERIT", 0x1000), ("FS_XFLAG_NODEFRAG", 0x2000),
    ("FS_XFLAG_FILESTREAM", 0x4000), ("FS_XFLAG_DAX", 0x8000), ("FS_XFLAG_COWEXTSIZE", 0x10000),
    ("FS_XFLAG_HASATTR", 0x80000000)], "FS_XFLAG_???", "include/uapi/linux/fs.h")
_FIEMAP_FLAGS = FlagSet("fiemap_flags", [
    ("FIEMAP_FLAG_SYNC", 0x1), ("FIEMAP_FLAG_XATTR", 0x2), ("FIEMAP_FLAG_CACHE", 0x4)],
    "FIEMAP_FLAG_???", "include/uapi/linux/fiemap.h")
_FIEMAP_EXTENT_FLAGS = FlagSet("fiemap_extent_flags", [
    ("FIEMAP_EXTENT_LAST", 0x1), ("FIEMAP_EXTENT_UNKNOWN", 0x2), ("FIEMAP_EXTENT_DELALLOC", 0x4),
    ("FIEMAP_EXTENT_ENCODED", 0x8), ("FIEMAP_EXTENT_DATA_ENCRYPTED", 0x80),
    ("FIEMAP_EXTENT_NOT_ALIGNED", 0x100), ("FIEMAP_EXTENT_DATA_INLINE", 0x200),
    ("FIEMAP_EXTENT_DATA_TAIL", 0x400), ("FIEMAP_EXTENT_UNWRITTEN", 0x800), ("FIEMAP_EXTENT_MERGED", 0x1000),
    ("FIEMAP_EXTENT_SHARED", 0x2000)], "FIEMAP_EXTENT_???", "include/uapi/linux/fiemap.h")
# ATA commands (linux/ata.h), HDIO_DRIVE_CMD's first byte
_ATA_CMDS = FlagSet("ata_cmds", [
    ("ATA_CMD_NOP", 0x0), ("ATA_CMD_CFA_REQ_EXT_ERR", 0x3), ("ATA_CMD_DSM", 0x6), ("ATA_CMD_DEV_RESET", 0x8),
    ("ATA_CMD_REQ_SENSE_DATA", 0xb), ("ATA_CMD_RESTORE", 0x10), ("ATA_CMD_PIO_READ", 0x20),
    ("ATA_CMD_READ_LONG", 0x22), ("ATA_CMD_READ_LONG_ONCE", 0x23), ("ATA_CMD_PIO_READ_EXT", 0x24),
    ("ATA_CMD_READ_EXT", 0x25), ("ATA_CMD_READ_QUEUED", 0x26), ("ATA_CMD_READ_NATIVE_MAX_EXT", 0x27),
    ("ATA_CMD_READ_MULTI_EXT", 0x29), ("ATA_CMD_READ_STREAM_DMA_EXT", 0x2a), ("ATA_CMD_READ_STREAM_EXT",
    0x2b), ("ATA_CMD_READ_LOG_EXT", 0x2f), ("ATA_CMD_PIO_WRITE", 0x30), ("ATA_CMD_WRITE_LONG", 0x32),
    ("ATA_CMD_WRITE_LONG_ONCE", 0x33), ("ATA_CMD_PIO_WRITE_EXT", 0x34), ("ATA_CMD_WRITE_EXT", 0x35),
    ("ATA_CMD_WRITE_QUEUED", 0x36), ("ATA_CMD_SET_MAX_EXT", 0x37), ("ATA_CMD_CFA_WRITE_NE", 0x38),
    ("ATA_CMD_WRITE_MULTI_EXT", 0x39), ("ATA_CMD_WRITE_STREAM_DMA_EXT", 0x3a), ("ATA_CMD_WRITE_STREAM_EXT",
    0x3b), ("ATA_CMD_WRITE_FUA_EXT", 0x3d), ("ATA_CMD_WRITE_QUEUED_FUA_EXT", 0x3e), ("ATA_CMD_WRITE_LOG_EXT",
    0x3f), ("ATA_CMD_VERIFY", 0x40), ("ATA_CMD_VERIFY_EXT", 0x42), ("ATA_CMD_WRITE_UNCORR_EXT", 0x45),
    ("ATA_CMD_READ_LOG_DMA_EXT", 0x47), ("ATA_CMD_ZAC_MGMT_IN", 0x4a), ("ATA_CMD_CONFIG_STREAM", 0x51),
    ("ATA_CMD_WRITE_LOG_DMA_EXT", 0x57), ("ATA_CMD_TRUSTED_NONDATA", 0x5b), ("ATA_CMD_TRUSTED_RCV", 0x5c),
    ("ATA_CMD_TRUSTED_RCV_DMA", 0x5d), ("ATA_CMD_TRUSTED_SND", 0x5e), ("ATA_CMD_TRUSTED_SND_DMA", 0x5f),
    ("ATA_CMD_FPDMA_READ", 0x60), ("ATA_CMD_FPDMA_WRITE", 0x61), ("ATA_CMD_NCQ_NON_DATA", 0x63),
    ("ATA_CMD_FPDMA_SEND", 0x64), ("ATA_CMD_FPDMA_RECV", 0x65), ("ATA_CMD_CFA_TRANS_SECT", 0x87),
    ("ATA_CMD_EDD", 0x90), ("ATA_CMD_INIT_DEV_PARAMS", 0x91), ("ATA_CMD_DOWNLOAD_MICRO", 0x92),
    ("ATA_CMD_DOWNLOAD_MICRO_DMA", 0x93), ("ATA_CMD_ZAC_MGMT_OUT", 0x9f), ("ATA_CMD_PACKET", 0xa0),
    ("ATA_CMD_ID_ATAPI", 0xa1), ("ATA_CMD_SERVICE", 0xa2), ("ATA_CMD_SMART", 0xb0), ("ATA_CMD_CONF_OVERLAY",
    0xb1), ("ATA_CMD_SANITIZE_DEVICE", 0xb4), ("ATA_CMD_CFA_ERASE", 0xc0), ("ATA_CMD_READ_MULTI", 0xc4),
    ("ATA_CMD_WRITE_MULTI", 0xc5), ("ATA_CMD_SET_MULTI", 0xc6), ("ATA_CMD_READ", 0xc8), ("ATA_CMD_WRITE",
    0xca), ("ATA_CMD_CFA_WRITE_MULT_NE", 0xcd), ("ATA_CMD_WRITE_MULTI_FUA_EXT", 0xce),
    ("ATA_CMD_CHK_MED_CRD_TYP", 0xd1), ("ATA_CMD_MEDIA_LOCK", 0xde), ("ATA_CMD_MEDIA_UNLOCK", 0xdf),
    ("ATA_CMD_STANDBYNOW1", 0xe0), ("ATA_CMD_IDLEIMMEDIATE", 0xe1), ("ATA_CMD_STANDBY", 0xe2),
    ("ATA_CMD_IDLE", 0xe3), ("ATA_CMD_PMP_READ", 0xe4), ("ATA_CMD_CHK_POWER", 0xe5), ("ATA_CMD_SLEEP", 0xe6),
    ("ATA_CMD_FLUSH", 0xe7), ("ATA_CMD_PMP_WRITE", 0xe8), ("ATA_CMD_PMP_READ_DMA", 0xe9),
    ("ATA_CMD_FLUSH_EXT", 0xea), ("ATA_CMD_PMP_WRITE_DMA", 0xeb), ("ATA_CMD_ID_ATA", 0xec),
    ("ATA_CMD_SET_FEATURES", 0xef), ("ATA_CMD_SEC_SET_PASS", 0xf1), ("ATA_CMD_SEC_UNLOCK", 0xf2),
    ("ATA_CMD_SEC_ERASE_PREP", 0xf3), ("ATA_CMD_SEC_ERASE_UNIT", 0xf4), ("ATA_CMD_SEC_FREEZE_LOCK", 0xf5),
    ("ATA_CMD_SEC_DISABLE_PASS", 0xf6), ("ATA_CMD_READ_NATIVE_MAX", 0xf8), ("ATA_CMD_SET_MAX", 0xf9)], "ATA_CMD_???", "include/linux/ata.h")
_IDE_NICE = FlagSet("ide_nice", [
    ("1 << IDE_NICE_DSC_OVERLAP", 1 << 0), ("1 << IDE_NICE_ATAPI_OVERLAP", 1 << 1), ("1 << IDE_NICE_1", 1 << 3),
    ("1 << IDE_NICE_0", 1 << 2), ("1 << IDE_NICE_2", 1 << 4)], "IDE_NICE_???", "include/uapi/linux/hdreg.h")
_BUSSTATES = FlagSet("hdio_busstates", [("BUSSTATE_OFF", 0), ("BUSSTATE_ON", 1), ("BUSSTATE_TRISTATE", 2)],
                     "BUSSTATE_???", "include/uapi/linux/hdreg.h")
_COUNTER_TYPES = FlagSet("counter_component_types", [
    ("COUNTER_COMPONENT_NONE", 0), ("COUNTER_COMPONENT_SIGNAL", 1), ("COUNTER_COMPONENT_COUNT", 2),
    ("COUNTER_COMPONENT_FUNCTION", 3), ("COUNTER_COMPONENT_SYNAPSE_ACTION", 4), ("COUNTER_COMPONENT_EXTENSION", 5)],
    "COUNTER_COMPONENT_???", "include/uapi/linux/counter.h")
_COUNTER_SCOPES = FlagSet("counter_scopes", [
    ("COUNTER_SCOPE_DEVICE", 0), ("COUNTER_SCOPE_SIGNAL", 1), ("COUNTER_SCOPE_COUNT", 2)],
    "COUNTER_SCOPE_???", "include/uapi/linux/counter.h")
_COUNTER_EVENTS = FlagSet("counter_events", [
    ("COUNTER_EVENT_OVERFLOW", 0), ("COUNTER_EVENT_UNDERFLOW", 1), ("COUNTER_EVENT_OVERFLOW_UNDERFLOW", 2),
    ("COUNTER_EVENT_THRESHOLD", 3), ("COUNTER_EVENT_INDEX", 4), ("COUNTER_EVENT_CHANGE_OF_STATE", 5),
    ("COUNTER_EVENT_CAPTURE", 6)], "COUNTER_EVENT_???", "include/uapi/linux/counter.h")
_TIOCM = FlagSet("tiocm", [
    ("TIOCM_LE", 0x1), ("TIOCM_DTR", 0x2), ("TIOCM_RTS", 0x4), ("TIOCM_ST", 0x8), ("TIOCM_SR", 0x10),
    ("TIOCM_CTS", 0x20), ("TIOCM_CAR", 0x40), ("TIOCM_RNG", 0x80), ("TIOCM_DSR", 0x100), ("TIOCM_OUT1", 0x2000),
    ("TIOCM_OUT2", 0x4000), ("TIOCM_LOOP", 0x8000)], "TIOCM_???", "include/uapi/asm-generic/termios.h")
_PERF_IOC_FLAGS = FlagSet("perf_ioctl_flags", [("PERF_IOC_FLAG_GROUP", 1)], "PERF_IOC_FLAG_???",
                          "include/uapi/linux/perf_event.h")
_AUDIT_ARCHES = FlagSet("audit_arch", [
    ("AUDIT_ARCH_AARCH64", 0xc00000b7), ("AUDIT_ARCH_ARM", 0x40000028), ("AUDIT_ARCH_I386", 0x40000003),
    ("AUDIT_ARCH_MIPS", 0x8), ("AUDIT_ARCH_PPC64", 0x80000015), ("AUDIT_ARCH_PPC64LE", 0xc0000015),
    ("AUDIT_ARCH_RISCV64", 0xc00000f3), ("AUDIT_ARCH_S390X", 0x80000016), ("AUDIT_ARCH_X86_64", 0xc000003e)],
    "AUDIT_ARCH_???", "include/uapi/linux/audit.h")
_SECCOMP_RESP_FLAGS = FlagSet("seccomp_resp_flags", [("SECCOMP_USER_NOTIF_FLAG_CONTINUE", 1)],
                              "SECCOMP_USER_NOTIF_FLAG_???", "include/uapi/linux/seccomp.h")
_SECCOMP_ADDFD_FLAGS = FlagSet("seccomp_addfd_flags", [("SECCOMP_ADDFD_FLAG_SETFD", 1), ("SECCOMP_ADDFD_FLAG_SEND", 2)],
                               "SECCOMP_ADDFD_FLAG_???", "include/uapi/linux/seccomp.h")
_RTC_FEATURES = FlagSet("rtc_features", [(f"1<<RTC_FEATURE_{n}", 1 << i) for i, n in enumerate((
    "ALARM", "ALARM_RES_MINUTE", "NEED_WEEK_DAY", "ALARM_RES_2S", "UPDATE_INTERRUPT", "CORRECTION",
    "BACKUP_SWITCH_MODE", "ALARM_WAKEUP_ONLY"))], "1<<RTC_FEATURE_???", "include/uapi/linux/rtc.h")
_RTC_VL = FlagSet("rtc_vl_flags", [
    ("RTC_VL_DATA_INVALID", 1), ("RTC_VL_BACKUP_LOW", 2), ("RTC_VL_BACKUP_EMPTY", 4), ("RTC_VL_ACCURACY_LOW", 8),
    ("RTC_VL_BACKUP_SWITCH", 16)], "RTC_VL_???", "include/uapi/linux/rtc.h")
_RTC_PARAMS = FlagSet("rtc_params", [
    ("RTC_PARAM_FEATURES", 0), ("RTC_PARAM_CORRECTION", 1), ("RTC_PARAM_BACKUP_SWITCH_MODE", 2)],
    "RTC_PARAM_???", "include/uapi/linux/rtc.h")
_RTC_BSM = FlagSet("rtc_bsm", [("RTC_BSM_DISABLED", 0), ("RTC_BSM_DIRECT", 1), ("RTC_BSM_LEVEL", 2),
                               ("RTC_BSM_STANDBY", 3)], "RTC_BSM_???", "include/uapi/linux/rtc.h")
_LIRC_MODES = FlagSet("lirc_modes", [
    ("LIRC_MODE_RAW", 1), ("LIRC_MODE_PULSE", 2), ("LIRC_MODE_MODE2", 4), ("LIRC_MODE_SCANCODE", 8),
    ("LIRC_MODE_LIRCCODE", 0x10)], "LIRC_MODE_???", "include/uapi/linux/lirc.h")
_LIRC_FEATURES = FlagSet("lirc_features", [
    ("LIRC_CAN_SEND_PULSE", 0x2), ("LIRC_CAN_SEND_LIRCCODE", 0x10), ("LIRC_CAN_SET_SEND_CARRIER", 0x100),
    ("LIRC_CAN_SET_SEND_DUTY_CYCLE", 0x200), ("LIRC_CAN_SET_TRANSMITTER_MASK", 0x400),
    ("LIRC_CAN_REC_MODE2", 0x40000), ("LIRC_CAN_REC_SCANCODE", 0x80000), ("LIRC_CAN_REC_LIRCCODE", 0x100000),
    ("LIRC_CAN_SET_REC_CARRIER", 0x1000000), ("LIRC_CAN_MEASURE_CARRIER", 0x2000000),
    ("LIRC_CAN_USE_WIDEBAND_RECEIVER", 0x4000000), ("LIRC_CAN_SET_REC_TIMEOUT", 0x10000000),
    ("LIRC_CAN_GET_REC_RESOLUTION", 0x20000000), ("LIRC_CAN_SET_REC_CARRIER_RANGE", 0x80000000)],
    "LIRC_CAN_???", "include/uapi/linux/lirc.h")
_NBD_FLAGS = FlagSet("nbd_flags", [(f"NBD_FLAG_{n}", 1 << i) for i, n in enumerate((
    "HAS_FLAGS", "READ_ONLY", "SEND_FLUSH", "SEND_FUA", "ROTATIONAL", "SEND_TRIM", "SEND_WRITE_ZEROES",
    "SEND_DF", "CAN_MULTI_CONN", "SEND_RESIZE", "SEND_CACHE"))], "NBD_FLAG_???", "include/uapi/linux/nbd.h")
_SG_SCSI_RESET = FlagSet("sg_scsi_reset", [
    ("SG_SCSI_RESET_NOTHING", 0), ("SG_SCSI_RESET_DEVICE", 1), ("SG_SCSI_RESET_BUS", 2), ("SG_SCSI_RESET_HOST", 3),
    ("SG_SCSI_RESET_TARGET", 4), ("SG_SCSI_RESET_NO_ESCALATE", 0x100)], "SG_SCSI_RESET_???", "include/scsi/sg.h")
# the namespace types NS_GET_NSTYPE returns (linux/sched.h CLONE_NEW*)
_NS_TYPES = FlagSet("ns_types", [
    ("CLONE_NEWNS", 0x20000), ("CLONE_NEWCGROUP", 0x2000000), ("CLONE_NEWUTS", 0x4000000),
    ("CLONE_NEWIPC", 0x8000000), ("CLONE_NEWUSER", 0x10000000), ("CLONE_NEWPID", 0x20000000),
    ("CLONE_NEWNET", 0x40000000), ("CLONE_NEWTIME", 0x80)], "", "include/uapi/linux/sched.h")


def _fsflags(c: C, b: bytes) -> str:
    return "[" + _FS_FLAGS.flags(struct.unpack_from("<I", b)[0], c.style) + "]"


def _fstrim_range(c: C, b: bytes) -> str:
    start, length, minlen = struct.unpack_from("<QQQ", b)
    return f"{{start={hexa(start)}, len={length}, minlen={minlen}}}"


def _fsxattr(c: C, b: bytes, nextents: bool) -> str:
    xflags, extsize, n, projid, cow = struct.unpack_from("<IIIII", b)
    mid = f", fsx_nextents={n}" if nextents else ""
    return (f"{{fsx_xflags={_FS_XFLAGS.flags(xflags, c.style)}, fsx_extsize={extsize}{mid}, "
            f"fsx_projid={hexa(projid)}, fsx_cowextsize={cow}}}")


def _fiemap(c: C, b: bytes) -> str:
    start, length, flags, _mapped, count = struct.unpack_from("<QQIII", b)
    return (f"{{fm_start={start}, fm_length={length}, fm_flags={_FIEMAP_FLAGS.flags(flags, c.style)}, "
            f"fm_extent_count={count}}}")


def _fiemap_arg(c: C) -> str:
    """FS_IOC_FIEMAP: the request at entry; when the call succeeded, what
    it mapped: `{...} => {fm_flags=..., fm_mapped_extents=2, ...}`, the
    extents themselves with -v (fm_extents, 56 bytes each, after the
    32-byte header; their address when unreadable)."""
    text = _struct_arg(c, "in:struct:fiemap", 0)
    if not c.exiting or not c.ok or not text.startswith("{"):
        return text
    v = c.m(2, 1)
    if not isinstance(v, (bytes, bytearray)) or len(v) < 32:
        return text
    flags, mapped = struct.unpack_from("<II", v, 16)
    out = f"{{fm_flags={_FIEMAP_FLAGS.flags(flags, c.style)}, fm_mapped_extents={mapped}"
    if c.abbrev:
        return f"{text} => {out}, ...}}"
    if mapped == 0:
        ext = "[]"
    elif len(v) < 32 + 56:
        ext = hexa(c.ulong(2) + 32)
    else:
        items = []
        for k in range(mapped):
            if k >= c.opts.strsize:
                items.append("...")
                break
            off = 32 + 56 * k
            if len(v) < off + 56:
                items.append("...")
                break
            lo, ph, ln, _r1, _r2, fl = struct.unpack_from("<QQQQQI", v, off)
            items.append(f"{{fe_logical={lo}, fe_physical={ph}, fe_length={ln}, "
                         f"fe_flags={_FIEMAP_EXTENT_FLAGS.flags(fl, c.style)}}}")
        ext = "[" + ", ".join(items) + "]"
    return f"{text} => {out}, fm_extents={ext}}}"


def _hd_geometry(c: C, b: bytes) -> str:
    heads, sectors, cyl, start = struct.unpack_from("<BBH4xQ", b)
    return f"{{heads={heads}, sectors={sectors}, cylinders={cyl}, start={start}}}"


def _hdio_drive_cmd(c: C) -> str:
    """HDIO_DRIVE_CMD: {command, sector_number, feature, sector_count} at
    entry; after a call that succeeded (or failed with EIO), what the
    drive answered in the same 4 bytes and the sectors read after them."""
    v = arg_read(c, 0, 4)
    if isinstance(v, str):
        return v
    cmd, num, feat, cnt = v[0], v[1], v[2], v[3]
    text = (f"{{command={_ATA_CMDS.xval(cmd, c.style)}, sector_number={num}, feature={feat}, "
            f"sector_count={cnt}}}")
    if not c.exiting or c.ret is None or (c.is_error and c.ret != -5):
        return text
    w = c.m(2, 1)
    if not isinstance(w, (bytes, bytearray)) or len(w) < 4:
        return text
    status, err, nsect, cnt = w[0], w[1], w[2], w[3]
    out = f"{{status={hexa(status)}, error={err}, nsector={nsect}"
    if cnt:
        data = bytes(w[4:])
        n = cnt * 512
        if len(data) < min(n, c.opts.strsize):
            buf = hexa(c.ulong(2) + 4)
        else:
            buf = quote_buf(data, n, c.opts.strsize, c.opts.xflag, True)
        out += f", buf={buf}"
    return f"{text} => {out}}}"


def _xint3(c: C) -> str:
    """Three unsigned ints in hex, read at entry: `[0xdeadbeef, 0x1, 0x2]`."""
    v = arg_read(c, 0, 12)
    if isinstance(v, str):
        return v
    return "[" + ", ".join(hexa(x) for x in struct.unpack_from("<III", v)) + "]"


def _outstr(c: C, n: int) -> str:
    """A fixed-size buffer the call fills (strace's printstrn): its
    address unless the call succeeded."""
    if c.ulong(2) == 0:
        return "NULL"
    if not c.ok:
        return c.ptr(2)
    return c.buf(2, n, False, 1)


def _counter_watch(c: C, b: bytes) -> str:
    typ, scope, parent, cid, event, channel = b[:6]
    return (f"{{component={{type={_COUNTER_TYPES.xval(typ, c.style)}, scope={_COUNTER_SCOPES.xval(scope, c.style)}, "
            f"parent={parent}, id={cid}}}, event={_COUNTER_EVENTS.xval(event, c.style)}, channel={channel}}}")


def _perf_query_bpf(c: C) -> str:
    """PERF_EVENT_IOC_QUERY_BPF: {ids_len} asked; after success the
    count of programs and their ids (as many as both counts allow)."""
    v = arg_read(c, 0, 4)
    if isinstance(v, str):
        return v
    ids_len = struct.unpack_from("<I", v)[0]
    head = f"{{ids_len={ids_len}"
    w = c.m(2, 1)
    if not c.exiting or not c.ok or not isinstance(w, (bytes, bytearray)) or len(w) < 8:
        return head + ", ...}"
    cnt = struct.unpack_from("<I", w, 4)[0]
    n = min(cnt, ids_len)
    items = []
    for k in range(n):
        off = 8 + 4 * k
        if k >= c.opts.strsize:
            items.append("...")
            break
        if len(w) < off + 4:
            items.append(f"... /* {hexa(c.ulong(2) + off)} */" if k else "")
            break
        items.append(str(struct.unpack_from("<I", w, off)[0]))
    if n and items == [""]:
        ids = hexa(c.ulong(2) + 8)
    else:
        ids = "[" + ", ".join(items) + "]"
    return f"{head}, prog_cnt={cnt}, ids={ids}}}"


def _seccomp_notif_text(c: C, b: bytes) -> str:
    nid, pid, flags, nr, arch, ip = struct.unpack_from("<QIIIIQ", b)
    args = struct.unpack_from("<6Q", b, 32)
    pers = {0xC000003E: 0, 0x40000003: 1}.get(arch)
    name = None
    if pers is not None:
        from ._table import lookup

        sc = lookup(pers, nr)
        name = f"__NR_{sc.name}" if sc is not None else None
    pid_s = str(struct.unpack_from("<i", b, 8)[0])
    t = c.dec.pidns
    if t is not None:
        pid_s += t.comment(c.tid, pid)
    if name is None or c.style == "raw":
        nr_s = str(nr)
    elif c.style == "verbose":
        nr_s = f"{nr}{comment(name)}"
    else:
        nr_s = name
    return (f"{{id={hexa(nid)}, pid={pid_s}, flags={hexa(flags)}, data={{nr={nr_s}, "
            f"arch={_AUDIT_ARCHES.xval(arch, c.style)}, instruction_pointer={hexa(ip) if ip else 'NULL'}, "
            f"args=[{', '.join(hexa(a) for a in args)}]}}}}")


def _seccomp_notif(c: C) -> str:
    """SECCOMP_IOCTL_NOTIF_RECV: what the buffer held at entry (unless all
    zeros), then ` => ` and what the call wrote (its address when it failed)."""
    v = arg_read(c, 0, 80)
    if isinstance(v, str):
        return v
    head = "" if not any(v[:80]) else _seccomp_notif_text(c, bytes(v[:80])) + " => "
    if not c.exiting:
        return head.removesuffix(" => ")
    w = c.m(2, 1)
    if not c.ok or not isinstance(w, (bytes, bytearray)) or len(w) < 80:
        return head + c.ptr(2)
    return head + _seccomp_notif_text(c, bytes(w[:80]))


def _seccomp_resp(c: C, b: bytes) -> str:
    rid, val, err, flags = struct.unpack_from("<QqiI", b)
    e = str(err)
    if -4096 < err < 0 and not errno_name(-err).startswith("errno") and c.style != "raw":
        e = f"-{errno_name(-err)}" if c.style == "abbrev" else f"{err}{comment('-' + errno_name(-err))}"
    return (f"{{id={hexa(rid)}, val={val}, error={e}, "
            f"flags={_SECCOMP_RESP_FLAGS.flags(flags, c.style)}}}")


def _seccomp_addfd(c: C, b: bytes) -> str:
    aid, flags, srcfd, newfd, nflags = struct.unpack_from("<QIiiI", b)
    fd = c.fd_in(2, 12, srcfd)  # named at the stop ([layouts] seccomp_notif_addfd)
    return (f"{{id={hexa(aid)}, flags={_SECCOMP_ADDFD_FLAGS.flags(flags, c.style)}, srcfd={fd}, newfd={newfd}, "
            f"newfd_flags={c.fs('open_flags').flags(nflags, c.style)}}}")


def _rtc_time(c: C, b: bytes) -> str:
    f = struct.unpack_from("<9i", b)
    head = (f"{{tm_sec={f[0]}, tm_min={f[1]}, tm_hour={f[2]}, tm_mday={f[3]}, tm_mon={f[4]}, "
            f"tm_year={f[5]}")
    if c.abbrev:
        return head + ", ...}"
    return head + f", tm_wday={f[6]}, tm_yday={f[7]}, tm_isdst={f[8]}}}"


def _rtc_wkalrm(c: C, b: bytes) -> str:
    return f"{{enabled={b[0]}, pending={b[1]}, time={_rtc_time(c, b[4:40])}}}"


def _rtc_pll_info(c: C, b: bytes) -> str:
    f = struct.unpack_from("<6iq", b)
    return (f"{{pll_ctrl={f[0]}, pll_value={f[1]}, pll_max={f[2]}, pll_min={f[3]}, pll_posmult={f[4]}, "
            f"pll_negmult={f[5]}, pll_clock={f[6]}}}")


def _rtc_param_value(c: C, param: int, value: int) -> str:
    if param == 0:
        return f"uvalue={_RTC_FEATURES.flags(value, c.style)}"
    if param == 1:
        return f"svalue={value - (1 << 64) if value >> 63 else value}"
    if param == 2:
        return f"uvalue={_RTC_BSM.xval(value, c.style)}"
    return f"uvalue={hexa(value)}"


def _rtc_param(c: C, get: bool) -> str:
    """RTC_PARAM_SET: {param, value, index}; RTC_PARAM_GET: {param, index}
    asked, then ` => {value}` (its address when the call failed); __pad
    when not zero."""
    v = arg_read(c, 0, 24)
    if isinstance(v, str):
        return v
    param, value, index, pad = struct.unpack_from("<QQII", v)
    parts = [f"param={_RTC_PARAMS.xval(param, c.style)}"]
    if not get:
        parts.append(_rtc_param_value(c, param, value))
    parts.append(f"index={index}")
    if pad:
        parts.append(f"__pad={hexa(pad)}")
    text = "{" + ", ".join(parts) + "}"
    if not get or not c.exiting:
        return text
    w = c.m(2, 1)
    if not c.ok or not isinstance(w, (bytes, bytearray)) or len(w) < 24:
        return f"{text} => {c.ptr(2)}"
    param2, value, _index, pad = struct.unpack_from("<QQII", w)
    parts = [_rtc_param_value(c, param2, value)]
    if pad:
        parts.append(f"__pad={hexa(pad)}")
    return f"{text} => {{{', '.join(parts)}}}"


def _sg_scsi_reset(c: C, b: bytes) -> str:
    v = struct.unpack_from("<I", b)[0]
    head = ""
    if v & 0x100 and c.style != "raw":
        head = _SG_SCSI_RESET.xval(0x100, c.style) + "|"
        v &= ~0x100
    elif c.style == "raw":
        return f"[{hexa(v)}]"
    return f"[{head}{_SG_SCSI_RESET.xval(v, c.style)}]"


def _sg_scsi_id(c: C, b: bytes) -> str:
    host, chan, sid, lun, typ, per_lun, depth = struct.unpack_from("<5ihh", b)
    return (f"{{host_no={host}, channel={chan}, scsi_id={hexa(sid & 0xFFFFFFFF)}, lun={lun}, "
            f"scsi_type={hexa(typ & 0xFFFFFFFF)}, h_cmd_per_lun={per_lun}, d_queue_depth={depth}}}")


# argument structs by name: (size read, printer of (C, bytes))
_STRUCTS = {
    "fsflags": (4, _fsflags),
    "fstrim_range": (24, _fstrim_range),
    "fsxattr_in": (28, lambda c, b: _fsxattr(c, b, False)),
    "fsxattr_out": (28, lambda c, b: _fsxattr(c, b, True)),
    "fiemap": (32, _fiemap),
    "sg_scsi_reset": (4, _sg_scsi_reset),
    "sg_scsi_id": (32, _sg_scsi_id),
    "lirc_mode": (4, lambda c, b: "[" + _LIRC_MODES.xval(struct.unpack_from("<I", b)[0], c.style) + "]"),
    "lirc_features": (4, lambda c, b: "[" + _LIRC_FEATURES.flags(struct.unpack_from("<I", b)[0], c.style) + "]"),
    "xu32": (4, lambda c, b: "[" + hexa(struct.unpack_from("<I", b)[0]) + "]"),
    "rtc_time": (36, _rtc_time),
    "rtc_wkalrm": (40, _rtc_wkalrm),
    "rtc_pll_info": (32, _rtc_pll_info),
    "rtc_vl": (4, lambda c, b: "[" + _RTC_VL.flags(struct.unpack_from("<I", b)[0], c.style) + "]"),
    "seccomp_resp": (24, _seccomp_resp),
    "seccomp_addfd": (24, _seccomp_addfd),
    "xu64": (8, lambda c, b: "[" + hexa(struct.unpack_from("<Q", b)[0]) + "]"),
    "counter_watch": (6, _counter_watch),
    "tiocm": (4, lambda c, b: "[" + _TIOCM.flags(struct.unpack_from("<I", b)[0], c.style) + "]"),
    "hd_geometry": (16, _hd_geometry),
    "ide_nice": (8, lambda c, b: "[" + _IDE_NICE.flags(struct.unpack_from("<Q", b)[0], c.style) + "]"),
    "busstate": (8, lambda c, b: "[" + _BUSSTATES.xval(struct.unpack_from("<Q", b)[0], c.style) + "]"),
}


def _struct_arg(c: C, kind: str, phase: int) -> str:
    """An argument struct read at entry (phase 0) or filled by the call
    (phase 1: its address unless the call succeeded); NULL, or the address
    when not all of it is readable."""
    size, fn = _STRUCTS[kind.rsplit(":", 1)[1]]
    v = arg_read(c, phase, size)
    if isinstance(v, str):
        return v
    return fn(c, bytes(v[:size]))


def _nstype_ret(c: C) -> str:
    """NS_GET_NSTYPE's return annotated with the namespace type:
    `268435456 (CLONE_NEWUSER)`; other requests' returns as they are."""
    r = c.rval
    kvm = kvm_ret(c)  # -e kvm=vcpu: `0 (KVM_EXIT_HLT)`; a vm's or a vcpu's fd
    if kvm is not None:
        return kvm
    if c.uint(1) == 0xB703:
        n = _NS_TYPES.lookup(r)
        if n:
            return f"{r} ({n})"
    return str(r)


_SIZES = {"i": 4, "I": 4, "H": 2, "q": 8, "Q": 8, "l": 8, "L": 8}


def _num(c: C, kind: str, phase: int) -> str:
    fmt = kind.split(":", 1)[1]
    count = 1
    if "*" in fmt:
        fmt, n = fmt.split("*")
        count = int(n)
    size = _SIZES[fmt] * count
    v = arg_read(c, phase, size)
    if isinstance(v, str):
        return v
    # a long is 64 bits here ("<l" alone would read 4 bytes)
    vals = struct.unpack_from("<" + {"l": "q", "L": "Q"}.get(fmt, fmt) * count, v)
    return "[" + ", ".join(str(x) for x in vals) + "]"


def _rand_pool_info(c: C) -> str:
    """struct rand_pool_info {int entropy_count; int buf_size; u32 buf[]}."""
    v = arg_read(c, 0, 8)
    if isinstance(v, str):
        return v
    count, size = struct.unpack_from("<ii", v)
    data = bytes(v[8 : 8 + max(size, 0)])
    if size < 0 or len(data) < min(size, c.opts.strsize):
        buf = hexa(c.ulong(2) + 8)
    else:
        buf = quote_buf(data, size, c.opts.strsize, c.opts.xflag)
    return f"{{entropy_count={count}, buf_size={size}, buf={buf}}}"


# request type (_IOC_TYPE) -> the family's decoder of the third argument,
# given the request and its name: a list of what to print after the request (empty at the entry of a request
# printed at exit), or None for the table's kinds below
_FAMILIES = {0x45: _ioctl_evdev.decode, 0x3D: _ioctl_ptp.decode, 0xB4: _ioctl_gpio.decode, 0x4C: _ioctl_loop.decode,
             0xAA: _ioctl_uffd.decode, 0x54: _ioctl_term.decode, 0x4D: _ioctl_mtd.decode,
             0xAE: lambda c, req, name: kvm_arg(c, req)}


@syscall("ioctl", entry=2, ret=_nstype_ret)
def _ioctl(c: C):
    req = c.uint(1)
    out = [c.fd(0), ioctl_cmd(c, req)]
    family = _FAMILIES.get((req >> 8) & 0xFF)
    if family is not None:
        arg = family(c, req, _name(c, req))
        if arg is not None:
            return out + arg
    name = _name(c, req)  # -Xraw prints the request as a number, its argument decoded all the same
    kind = None
    for n in (name or "").split(" or "):
        kind = IOCTL_ARGS.get(n)
        if kind is not None:
            break
    if kind is not None:
        if kind == "none":
            return out
        if kind == "uval":
            return out + [c.lu(2)]
        if kind == "ival":
            return out + [c.d(2)]
        if kind == "hdio_drive_cmd":
            return out + [_hdio_drive_cmd(c)]
        if kind == "xint*3":
            return out + [_xint3(c)]
        if kind == "ide_nice":
            return out + [_IDE_NICE.flags(c.ulong(2), c.style)]
        if kind == "busstate":
            return out + [_BUSSTATES.xval(c.ulong(2), c.style)]
        if kind.startswith("outstr:"):
            return out + ([_outstr(c, int(kind[7:]))] if c.exiting else [])
        if kind == "perf_flags":
            return out + [_PERF_IOC_FLAGS.flags(c.uint(2), c.style)]
        if kind == "perf_query_bpf":
            return out + [_perf_query_bpf(c)]
        if kind == "cstr":
            return out + [c.cstr(2)]
        if kind == "seccomp_notif":
            return out + [_seccomp_notif(c)]
        if kind in ("rtc_param_get", "rtc_param_set"):
            return out + [_rtc_param(c, kind == "rtc_param_get")]
        if kind == "fd":
            return out + [_field_fd(c, c.int(2))]
        if kind == "nbd_flags":
            return out + [_NBD_FLAGS.flags(c.ulong(2), c.style)]
        if kind == "xval32":
            return out + [hexa(c.uint(2))]
        if kind == "addr":
            return out + [c.ptr(2)]
        if kind == "fiemap":
            return out + [_fiemap_arg(c)]
        if kind == "rand_pool_info":
            return out + [_rand_pool_info(c)]
        if kind.startswith("in:struct:"):
            return out + [_struct_arg(c, kind, 0)]
        if kind.startswith("in:"):
            return out + [_num(c, kind, 0)]
        if not c.exiting:
            return out  # filled at exit: printed then (strace's `<unfinished ...>` shows the first two)
        if kind.startswith("out:struct:"):
            return out + [_struct_arg(c, kind, 1)]
        return out + [_num(c, kind, 1)]
    if req == 0x5413:  # TIOCGWINSZ
        return out + [c.outstruct(2, "winsize")]
    if req == 0x5414:  # TIOCSWINSZ
        return out + [c.struct(2, "winsize", 0)]
    if req == 0x40049409:  # FICLONE: the source fd
        return out + [c.fd(2)]
    return out + [c.hex(2)]
