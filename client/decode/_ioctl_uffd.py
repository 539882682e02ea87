"""ioctl: userfaultfd (linux/userfaultfd.h, request type 0xaa): what was
asked at entry, then (the call succeeded) what the kernel wrote back in the
same struct: the features it agreed to when they differ (` => features=...`),
the ioctls a range supports, the bytes copied or zeroed."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import FlagSet, hexa
from ._ioctl_util import asked_got, printer

_H = "include/uapi/linux/userfaultfd.h"
_FEATURES = FlagSet("uffd_api_features", [(f"UFFD_FEATURE_{n}", 1 << i) for i, n in enumerate((
    "PAGEFAULT_FLAG_WP", "EVENT_FORK", "EVENT_REMAP", "EVENT_REMOVE", "MISSING_HUGETLBFS", "MISSING_SHMEM",
    "EVENT_UNMAP", "SIGBUS", "THREAD_ID", "MINOR_HUGETLBFS", "MINOR_SHMEM", "EXACT_ADDRESS",
    "WP_HUGETLBFS_SHMEM"))], "UFFD_FEATURE_???", _H)
_API_IOCTLS = FlagSet("uffd_api_flags", [
    ("1<<_UFFDIO_REGISTER", 1 << 0x00), ("1<<_UFFDIO_UNREGISTER", 1 << 0x01), ("1<<_UFFDIO_API", 1 << 0x3F)],
    "_UFFDIO_???", _H)
_RANGE_IOCTLS = FlagSet("uffd_register_ioctl_flags", [
    ("1<<_UFFDIO_WAKE", 1 << 2), ("1<<_UFFDIO_COPY", 1 << 3), ("1<<_UFFDIO_ZEROPAGE", 1 << 4),
    ("1<<_UFFDIO_WRITEPROTECT", 1 << 6), ("1<<_UFFDIO_CONTINUE", 1 << 7)], "UFFDIO_???", _H)
_REGISTER_MODES = FlagSet("uffd_register_mode_flags", [
    ("UFFDIO_REGISTER_MODE_MISSING", 1), ("UFFDIO_REGISTER_MODE_WP", 2), ("UFFDIO_REGISTER_MODE_MINOR", 4)],
    "UFFDIO_REGISTER_MODE_???", _H)
_COPY_MODES = FlagSet("uffd_copy_flags", [("UFFDIO_COPY_MODE_DONTWAKE", 1), ("UFFDIO_COPY_MODE_WP", 2)],
                      "UFFDIO_COPY_???", _H)
_ZEROPAGE_MODES = FlagSet("uffd_zeropage_flags", [("UFFDIO_ZEROPAGE_MODE_DONTWAKE", 1)], "UFFDIO_ZEROPAGE_???", _H)


def _range(b: bytes, off: int = 0) -> str:
    """struct uffdio_range."""
    start, length = struct.unpack_from("<QQ", b, off)
    return f"{{start={hexa(start)}, len={hexa(length)}}}"


@printer("uffdio_range", 16)
def _range_arg(c: C, b: bytes) -> str:
    return _range(b)


@printer("uffdio_api")
def _api(c: C) -> str:
    def entry(b: bytes) -> str:
        api, feat = struct.unpack_from("<QQ", b)
        return f"api={hexa(api)}, features={_FEATURES.flags(feat, c.style)}"

    def exit_(b: bytes, w: bytes) -> str:
        feat, ioctls = struct.unpack_from("<QQ", w, 8)
        changed = f" => features={_FEATURES.flags(feat, c.style)}" if feat != struct.unpack_from("<Q", b, 8)[0] else ""
        return f"{changed}, ioctls={_API_IOCTLS.flags(ioctls, c.style)}"

    return asked_got(c, 24, entry, exit_)


@printer("uffdio_copy")
def _copy(c: C) -> str:
    def entry(b: bytes) -> str:
        dst, src, length, mode = struct.unpack_from("<QQQQ", b)
        return (f"dst={hexa(dst)}, src={hexa(src)}, len={hexa(length)}, "
                f"mode={_COPY_MODES.flags(mode, c.style)}")

    return asked_got(c, 40, entry, lambda b, w: f", copy={hexa(struct.unpack_from('<Q', w, 32)[0])}")


@printer("uffdio_register")
def _register(c: C) -> str:
    return asked_got(c, 32, lambda b: (f"range={_range(b)}, "
                                    f"mode={_REGISTER_MODES.flags(struct.unpack_from('<Q', b, 16)[0], c.style)}"),
                  lambda b, w: f", ioctls={_RANGE_IOCTLS.flags(struct.unpack_from('<Q', w, 24)[0], c.style)}")


@printer("uffdio_zeropage")
def _zeropage(c: C) -> str:
    return asked_got(c, 32, lambda b: (f"range={_range(b)}, "
                                    f"mode={_ZEROPAGE_MODES.flags(struct.unpack_from('<Q', b, 16)[0], c.style)}"),
                  lambda b, w: f", zeropage={hexa(struct.unpack_from('<Q', w, 24)[0])}")
