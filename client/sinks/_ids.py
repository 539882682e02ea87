"""Session keys unique across daemon restarts: the boot id, this process's
start on CLOCK_BOOTTIME (ms, which never goes back within a boot) and the
local session number."""

from __future__ import annotations

import os
import time


def boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip().replace("-", "")
    except OSError:
        return "0" * 32


def session_namer():
    """A callable local_id -> "BOOT8.START.N" (hex start): call it once per
    daemon (or tracectl) process."""
    prefix = f"{boot_id()[:8]}.{time.clock_gettime_ns(time.CLOCK_BOOTTIME) // 1_000_000:x}.{os.getpid():x}"

    def name(local_id: int) -> str:
        return f"{prefix}.{local_id}"

    return name
