"""The listening socket: bind rules, socket activation, systemd notification."""

from __future__ import annotations

import errno
import grp
import logging
import os
import socket
import stat

from tracerd import TracerdError

log = logging.getLogger("tracerd")

DEFAULT_SOCKET = "/run/tracerd/tracerd.sock"
DEFAULT_GROUP = "tracing"
DEFAULT_MODE = 0o660
SD_LISTEN_FDS_START = 3  # sd_listen_fds(3): the first passed fd


def resolve_group(name: str | None) -> int:
    """The socket's group: `name` if given (it must exist), else `tracing` if it
    exists, else root's group with a warning."""
    if name is not None:
        try:
            return grp.getgrnam(name).gr_gid if not name.isdigit() else int(name)
        except KeyError:
            raise TracerdError(f"unknown group '{name}'") from None
    try:
        return grp.getgrnam(DEFAULT_GROUP).gr_gid
    except KeyError:
        log.warning("group '%s' does not exist: the socket is left to root's group (only root can connect)", DEFAULT_GROUP)
        return 0


def daemon_answers(path: str) -> bool:
    """True if something accepts connections on the Unix socket `path`."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def listen_fds() -> list[socket.socket]:
    """Sockets passed by systemd socket activation (LISTEN_PID/LISTEN_FDS, see
    sd_listen_fds(3)), or [] when not socket-activated."""
    pid, n = os.environ.get("LISTEN_PID"), os.environ.get("LISTEN_FDS")
    if not pid or not n or not pid.isdigit() or int(pid) != os.getpid():
        return []
    for var in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(var, None)
    out = []
    for fd in range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + int(n)):
        os.set_inheritable(fd, False)
        s = socket.socket(fileno=fd)
        if s.family != socket.AF_UNIX or s.type != socket.SOCK_STREAM:
            raise TracerdError(f"socket activation: fd {fd} is not a Unix stream socket")
        out.append(s)
    return out


class Published:
    """A listening socket bound under a temporary name, and the step that
    puts it at its path (`publish`): the daemon publishes once its standing
    rules are in force, so a client that sees the path finds them so."""

    def __init__(self, sock: socket.socket, tmp: str, path: str):
        self.sock, self.tmp, self.path = sock, tmp, path
        self.done = tmp == path

    def publish(self) -> None:
        if self.done:
            return
        try:
            os.rename(self.tmp, self.path)
        except OSError as exc:
            raise TracerdError(f"cannot bind {self.path}: {exc.strerror}") from None
        self.done = True

    def discard(self) -> None:
        """The temporary name, when the daemon ends before publishing."""
        if not self.done:
            try:
                os.unlink(self.tmp)
            except OSError:
                pass


def bind_unix(path: str, *, mode: int = DEFAULT_MODE, group: int = 0) -> Published:
    """Bind and listen on `path` (under a temporary name until `publish()`):
    create the parent directory, replace a stale socket (nobody answers),
    refuse when a live daemon answers."""
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, mode=0o755, exist_ok=True)
    except OSError as exc:
        raise TracerdError(f"cannot create {parent}: {exc.strerror}") from None
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISSOCK(st.st_mode):
            raise TracerdError(f"{path} exists and is not a socket")
        if daemon_answers(path):
            raise TracerdError(f"a daemon is already listening on {path}")
        log.info("replacing stale socket %s", path)
        os.unlink(path)
    # Bind, set owner and mode, and listen under a temporary name, then
    # (Published.publish) rename into place: the path appears only once it
    # accepts with the rules in force, so a client that sees it never meets
    # ECONNREFUSED, a socket more open than asked, or rules not yet loaded
    tmp = os.path.join(parent, f".tracerd-{os.getpid()}.tmp")
    if len(os.fsencode(tmp)) > 107:  # sun_path: too long for the detour
        tmp = path
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        if tmp != path and os.path.lexists(tmp):
            os.unlink(tmp)  # left by a crashed daemon that had our pid
        sock.bind(tmp)
    except OSError as exc:
        sock.close()
        raise TracerdError(f"cannot bind {path}: {os.strerror(exc.errno)}") from None
    finally:
        os.umask(old)
    try:
        os.chown(tmp, -1, group)
        os.chmod(tmp, mode)
    except OSError as exc:
        sock.close()
        os.unlink(tmp)
        raise TracerdError(f"cannot give {path} group {group} and mode {mode:04o}: {exc.strerror}") from None
    sock.listen(128)
    return Published(sock, tmp, path)


def sd_notify(state: str) -> bool:
    """Tell systemd our state (READY=1, STOPPING=1) through $NOTIFY_SOCKET.

    Written by hand: the protocol is one datagram of text to a Unix socket
    (sd_notify(3)); the libraries that wrap it pull in libsystemd or add a
    dependency for these ten lines.
    """
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return False
    if addr[0] == "@":  # abstract namespace
        addr = "\0" + addr[1:]
    elif addr[0] != "/":
        log.warning("NOTIFY_SOCKET %r is not a Unix socket path; not notifying", addr)
        return False
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
    try:
        s.sendto(state.encode(), addr)
        return True
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ECONNREFUSED):
            log.warning("sd_notify(%s) failed: %s", state, exc.strerror)
        return False
    finally:
        s.close()
