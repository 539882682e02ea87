"""Signal names as strace prints them on Linux: the one place that names a
signal number (the decoder, the printer's `+++ killed by` lines, JSON lines,
perfetto and the -e signal= parser all use it).

The kernel's 1..31 by their names in Python's `signal` module (no aliases
such as SIGIOT or SIGCLD), then the real-time ones numbered from the kernel's
first, 32 — not glibc's SIGRTMIN, 34: SIGRTMIN for 32, SIGRT_n for 32+n.
"""

from __future__ import annotations

import signal as _signal
from functools import lru_cache

KERNEL_SIGRTMIN = 32
NSIG = 64


@lru_cache(maxsize=None)  # pure; signal.Signals(n) builds an enum lookup per call
def signame(n: int) -> str | None:
    """The name of signal n, or None for a number no signal has."""
    if 1 <= n < KERNEL_SIGRTMIN:
        try:
            return _signal.Signals(n).name
        except ValueError:
            return None
    if n == KERNEL_SIGRTMIN:
        return "SIGRTMIN"
    if KERNEL_SIGRTMIN < n <= NSIG:
        return f"SIGRT_{n - KERNEL_SIGRTMIN}"
    return None


# name -> number, for parsing (-e signal=, -e inject=...:signal=)
SIGNAL_NUMBERS = {signame(n): n for n in range(1, NSIG + 1) if signame(n) is not None}
