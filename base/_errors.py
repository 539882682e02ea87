"""Every exception tracerd raises on purpose, in one place.

Each carries a one-line message meant for a human; the CLI prints
``tracectl: <message>`` and exits non-zero.
"""


class TracerdError(Exception):
    """Base of every error tracerd raises on purpose."""

    exit_status = 1


class UsageError(TracerdError):
    """A malformed option or expression (strace's wording where it has one)."""


class UnknownSyscall(UsageError):
    """A syscall name that no personality knows."""


class LibseccompMissing(TracerdError):
    """libseccomp could not be loaded."""

    def __init__(self, detail: str = ""):
        super().__init__(
            "libseccomp could not be loaded"
            + (f" ({detail})" if detail else "")
            + "; install it with: apt-get install libseccomp2"
        )


class NativeMissing(TracerdError):
    """The cffi extension is not built."""

    def __init__(self, detail: str = ""):
        super().__init__(
            "the native tracer loop is not built"
            + (f" ({detail})" if detail else "")
            + "; reinstall with: pip install -e ."
        )


class ProtocolError(TracerdError):
    """The peer sent something the protocol does not allow."""


class RemoteError(TracerdError):
    """The daemon refused a request: carries the daemon's code and message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class PermissionRefused(TracerdError):
    """Policy refuses the request; the message names the rule."""


class TracerError(TracerdError):
    """The tracer (worker) failed: seize refused, a pid vanished, ..."""
