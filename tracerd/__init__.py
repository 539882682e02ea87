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
from ._protocol import (
    CLIENT,
    NEED_DATA,
    SERVER,
    Connection,
    ConnectionClosed,
    End,
    Error,
    Hello,
    Records,
    Reply,
    Request,
)
from ._version import __version__

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
