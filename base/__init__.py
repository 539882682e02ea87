"""tracerd: a seccomp-BPF accelerated system-call tracer that runs as a service.

The import root holds what every part shares: the version, the wire format
(`tracerd._wire`), the client/daemon protocol (`tracerd._protocol`) and the
exceptions (`tracerd._errors`). It imports no part.
"""

from ._errors import (
    LibseccompMissing,
    NativeMissing,
    PermissionRefused,
    ProtocolError,
    RemoteError,
    TracerdError,
    TracerError,
    UnknownSyscall,
    UsageError,
)
from ._version import __version__

# The protocol (dataclasses, msgpack) is imported on first use: an embedded
# `tracectl run` never speaks it, and importing it cost ~20 ms per start.
_PROTOCOL = frozenset({"CLIENT", "NEED_DATA", "SERVER", "Connection", "ConnectionClosed", "End", "Error", "Hello", "Records", "Reply", "Request"})


def __getattr__(name: str):
    if name in _PROTOCOL:
        from . import _protocol

        return getattr(_protocol, name)
    raise AttributeError(f"module 'tracerd' has no attribute {name!r}")


__all__ = [
    "__version__",
    "CLIENT",
    "NEED_DATA",
    "SERVER",
    "Connection",
    "ConnectionClosed",
    "End",
    "Error",
    "Hello",
    "Records",
    "Reply",
    "Request",
    "LibseccompMissing",
    "NativeMissing",
    "PermissionRefused",
    "ProtocolError",
    "RemoteError",
    "TracerdError",
    "TracerError",
    "UnknownSyscall",
    "UsageError",
]
