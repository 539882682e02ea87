"""The -o FILE stream: a write that fails (a full disk, a reader that went
away) is reported and the trace goes on, as strace does: the command is
neither killed nor its exit status changed.

strace 6.1 prints `strace: FILE: <error>` for every line it fails to write;
our writes are whole frames, so the error is printed once for each run of
failures (again only after a write succeeded in between). The lines that
could not be written are lost; writing resumes when the file takes data again.
"""

from __future__ import annotations

import os
import sys


class OutFile:
    """A text (or, for --format=msgpack, binary) output file opened
    unbuffered: the printer already hands over one string per frame."""

    def __init__(self, fp, name: str, notes=None):
        self._fp = fp  # an unbuffered binary file (io.FileIO)
        self.name = name
        self._notes = notes
        self.failed = None  # the error of the last failed write, until one succeeds
        self.errors = 0  # failed writes
        self.closed = False

    @classmethod
    def open(cls, path: str, mode: str, notes=None) -> "OutFile":
        """`mode`: "w" or "a" (any "b" in it is ignored: both kinds are written)."""
        raw = open(path, ("a" if "a" in mode else "w") + "b", buffering=0)
        return cls(raw, path, notes)

    @property
    def buffer(self):  # the printer writes msgpack bytes to out.buffer
        return self

    def write(self, data) -> int:
        if isinstance(data, str):
            data = data.encode("utf-8", "backslashreplace")
        view = memoryview(data)
        try:
            while view:
                n = self._fp.write(view)
                if n is None:  # non-blocking file that is full: lose the rest
                    break
                view = view[n:]
        except OSError as exc:
            self._fail(exc)
            return len(data)
        self.failed = None
        return len(data)

    def _fail(self, exc: OSError) -> None:
        self.errors += 1
        if self.failed is not None and self.failed == exc.errno:
            return
        self.failed = exc.errno
        notes = self._notes if self._notes is not None else sys.stderr
        try:
            notes.write(f"tracectl: {self.name}: {os.strerror(exc.errno) if exc.errno else exc}\n")
            notes.flush()
        except (OSError, ValueError):
            pass

    def flush(self) -> None:
        pass  # nothing is buffered here

    def isatty(self) -> bool:
        try:
            return self._fp.isatty()
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        return self._fp.fileno()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self._fp.close()
            except OSError as exc:
                self._fail(exc)


class PipeOut(OutFile):
    """-o '|COMMAND' (or '!COMMAND'): the trace goes to COMMAND's stdin, run
    by /bin/sh -c as strace runs it; closing waits for COMMAND to end (so its
    output is complete when tracectl exits, as with strace)."""

    def __init__(self, proc, name: str, notes=None):
        super().__init__(proc.stdin, name, notes)
        self._proc = proc

    @classmethod
    def start(cls, command: str, notes=None) -> "PipeOut":
        import subprocess

        # the command starts with SIGPIPE at its default (Python ignores it
        # in its own process), as from a shell
        proc = subprocess.Popen(["/bin/sh", "-c", command], stdin=subprocess.PIPE, bufsize=0, close_fds=True, restore_signals=True)
        return cls(proc, "|" + command, notes)

    def isatty(self) -> bool:
        return False

    def close(self) -> None:
        if not self.closed:
            super().close()
            try:
                self._proc.wait()
            except (OSError, KeyboardInterrupt):
                pass


class Quiet:
    """stderr for the trace and its notes: a write that fails for want of
    room (`2>/dev/full`) is dropped, as strace drops it (there is nowhere to
    report it); a reader that went away still raises BrokenPipeError, which
    ends tracectl by SIGPIPE, as it ends strace."""

    def __init__(self, fp):
        self._fp = fp

    def write(self, data):
        try:
            return self._fp.write(data)
        except BrokenPipeError:
            raise
        except OSError:
            return len(data)

    def flush(self) -> None:
        try:
            self._fp.flush()
        except BrokenPipeError:
            raise
        except OSError:
            pass

    @property
    def buffer(self):
        return Quiet(getattr(self._fp, "buffer", self._fp))

    def __getattr__(self, name):  # isatty, encoding, fileno, ...
        return getattr(self._fp, name)
