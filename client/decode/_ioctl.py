"""ioctl: request names (tty, socket, fs, and strace's names built from the
number), _IOC() for unknown ones; the argument by request through the `$`
variants of ioctls.toml ([ioctl_args], _ioctl_args.py), whose printers live
here (block, HDIO, fs, rtc, lirc, nbd, SCSI generic, perf, seccomp, random,
counters) and in the family modules (_ioctl_evdev, _ioctl_ptp,
_ioctl_gpio, _ioctl_loop, _ioctl_uffd, _ioctl_term, _ioctl_mtd)."""

from __future__ import annotations

import struct

from ._core import C, syscall, struct as register_struct
from . import _ioctl_blk, _ioctl_evdev, _ioctl_tee, _ioctl_gpio, _ioctl_kd, _ioctl_kdfont, _ioctl_loop, _ioctl_mtd, _ioctl_ptp, _ioctl_sock, _ioctl_term, _ioctl_uffd, _ioctl_ubi, _ioctl_v4l2_req, _ioctl_v4l2_ctrl  # noqa: F401 (their printers)
from ._ioctl_args import argument
from ._ioctl_util import arg_bytes, arg_read, printer, type_decoder, value_sets
from ._fmt import FlagSet, comment, errno_name, hexa, quote_buf
from ._kvm import kvm_arg, kvm_ret
from ._perf import attr_text


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
    0x40182103: "SECCOMP_IOCTL_NOTIF_ADDFD", 0x2289: "SG_GET_ACCESS_COUNT", 0x5437: "TIOCVHANGUP",
    # OpenZFS's (sys/fs/zfs.h, sys/kstat.h), which strace names too
    # the console's font and map requests (linux/kd.h), which the scan misses
    0x4B40: "GIO_SCRNMAP", 0x4B41: "PIO_SCRNMAP", 0x4B60: "GIO_FONT", 0x4B61: "PIO_FONT", 0x4B66: "GIO_UNIMAP",
    0x4B67: "PIO_UNIMAP", 0x4B68: "PIO_UNIMAPCLR", 0x4B69: "GIO_UNISCRNMAP", 0x4B6A: "PIO_UNISCRNMAP",
    0x4B6B: "GIO_FONTX", 0x4B6C: "PIO_FONTX", 0x4B6D: "PIO_FONTRESET", 0x4B70: "GIO_CMAP", 0x4B71: "PIO_CMAP",
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
    b = arg_bytes(c, 0, 32)
    text = b if isinstance(b, str) else _fiemap(c, b)
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


def _nstype_ret(c: C) -> str:
    """NS_GET_NSTYPE's return annotated with the namespace type:
    `268435456 (CLONE_NEWUSER)`; other requests' returns as they are."""
    r = c.rval
    kvm = kvm_ret(c)  # -e kvm=vcpu: `0 (KVM_EXIT_HLT)`; a vm's or a vcpu's fd
    if kvm is not None:
        return kvm
    if c.uint(1) == 0xC100565C:  # VIDIOC_CREATE_BUFS
        v = _ioctl_v4l2_req.create_bufs_ret(c)
        if v is not None:
            return v
    if c.uint(1) == 0xB703:
        n = _NS_TYPES.lookup(r)
        if n:
            return f"{r} ({n})"
    return str(r)


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


# the structs above by the names ioctls.toml's [ioctl_args] uses, with the
# size read
for _name_, _size, _fn in (
    ("fsflags", 4, _fsflags),
    ("fstrim_range", 24, _fstrim_range),
    ("fsxattr_in", 28, lambda c, b: _fsxattr(c, b, False)),
    ("fsxattr_out", 28, lambda c, b: _fsxattr(c, b, True)),
    ("sg_scsi_reset", 4, _sg_scsi_reset),
    ("sg_scsi_id", 32, _sg_scsi_id),
    ("lirc_mode", 4, lambda c, b: "[" + _LIRC_MODES.xval(struct.unpack_from("<I", b)[0], c.style) + "]"),
    ("lirc_features", 4, lambda c, b: "[" + _LIRC_FEATURES.flags(struct.unpack_from("<I", b)[0], c.style) + "]"),
    ("xu32", 4, lambda c, b: "[" + hexa(struct.unpack_from("<I", b)[0]) + "]"),
    ("rtc_time", 36, _rtc_time),
    ("rtc_wkalrm", 40, _rtc_wkalrm),
    ("rtc_pll_info", 32, _rtc_pll_info),
    ("rtc_vl", 4, lambda c, b: "[" + _RTC_VL.flags(struct.unpack_from("<I", b)[0], c.style) + "]"),
    ("seccomp_resp", 24, _seccomp_resp),
    ("seccomp_addfd", 24, _seccomp_addfd),
    ("xu64", 8, lambda c, b: "[" + hexa(struct.unpack_from("<Q", b)[0]) + "]"),
    ("counter_watch", 6, _counter_watch),
    ("tiocm", 4, lambda c, b: "[" + _TIOCM.flags(struct.unpack_from("<I", b)[0], c.style) + "]"),
    ("hd_geometry", 16, _hd_geometry),
    ("ide_nice", 8, lambda c, b: "[" + _IDE_NICE.flags(struct.unpack_from("<Q", b)[0], c.style) + "]"),
    ("busstate", 8, lambda c, b: "[" + _BUSSTATES.xval(struct.unpack_from("<Q", b)[0], c.style) + "]"),
    ("xint3", 12, lambda c, b: "[" + ", ".join(hexa(x) for x in struct.unpack_from("<III", b)) + "]"),
):
    printer(_name_, _size)(_fn)
# whole-argument printers: what was asked, then what the call wrote
printer("hdio_drive_cmd")(_hdio_drive_cmd)
printer("fiemap")(_fiemap_arg)
printer("perf_query_bpf")(_perf_query_bpf)
printer("perf_event_attr")(lambda c: attr_text(c, 2))  # PERF_EVENT_IOC_MODIFY_ATTRIBUTES
printer("seccomp_notif")(_seccomp_notif)
printer("rtc_param_get")(lambda c: _rtc_param(c, True))
printer("rtc_param_set")(lambda c: _rtc_param(c, False))
printer("rand_pool_info")(_rand_pool_info)
printer("winsize_get")(lambda c: c.outstruct(2, "winsize"))
printer("winsize_set")(lambda c: c.struct(2, "winsize", 0))
value_sets(_IDE_NICE, _BUSSTATES, _PERF_IOC_FLAGS, _NBD_FLAGS)
type_decoder("kvm")(lambda c, req, name: kvm_arg(c, req))


@syscall("ioctl", ret=_nstype_ret)
def _ioctl(c: C):
    req = c.uint(1)
    # -Xraw prints the request as a number, its argument decoded all the same
    return [c.fd(0), ioctl_cmd(c, req)] + argument(c, req, _name(c, req))
