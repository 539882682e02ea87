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

__all__ = [
    "__version__",
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
