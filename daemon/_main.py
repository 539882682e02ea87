"""`tracerd`: the command line of the daemon. Foreground, logs to stderr."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

import trio

from tracerd import TracerdError, __version__

from . import _config, _metrics
from ._server import STOP_SIGNALS, Daemon
from ._socket import DEFAULT_MODE, DEFAULT_SOCKET, bind_unix, listen_fds, resolve_group

log = logging.getLogger("tracerd")


def _mode(s: str) -> int:
    try:
        m = int(s, 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid mode '{s}'") from None
    if not 0 <= m <= 0o777:
        raise argparse.ArgumentTypeError(f"invalid mode '{s}'")
    return m


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tracerd", description="The tracerd daemon: serves tracectl clients on a Unix socket.")
    p.add_argument("--version", action="version", version=f"tracerd {__version__}")
    p.add_argument("--socket", metavar="PATH", default=None, help=f"listen here (default {DEFAULT_SOCKET}; ignored under socket activation)")
    p.add_argument("--socket-group", metavar="GROUP", default=None, help="the socket's group (default: tracing if it exists, else root's)")
    p.add_argument("--socket-mode", metavar="MODE", type=_mode, default=DEFAULT_MODE, help="the socket's mode, octal (default 0660)")
    p.add_argument("--config", metavar="FILE", help="TOML configuration (limits, group grants)")
    p.add_argument("--metrics-listen", metavar="HOST:PORT", default=None, help="serve Prometheus metrics on http://HOST:PORT/metrics (HOST defaults to 127.0.0.1; also [metrics] listen in the config)")
    p.add_argument("--state-dir", metavar="DIR", default=None, help=f"where the pass-through state file lives (default: the socket's directory with --socket, else {DEFAULT_STATE_DIR})")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"], help="default info")
    return p


MMAP_THRESHOLD = int(os.environ.get("TRACERD_MMAP_THRESHOLD", 64 * 1024))


def _pin_malloc_thresholds() -> None:
    """Keep RSS flat under load: glibc raises its mmap threshold each time a
    large mmapped buffer is freed, after which the daemon's 100 KiB-1 MiB
    frame buffers come from the heap and fragment it (measured: +20% RSS in
    20 s with one busy session). A fixed threshold (mallopt(3)) keeps large
    buffers in mmap, returned to the system when freed."""
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD (malloc.h)
        libc.mallopt(-1, 128 * 1024)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass  # not glibc: nothing to pin


DEFAULT_STATE_DIR = "/run/tracerd"


async def _serve(daemon: Daemon, listeners: list, metrics_sock, publish=None) -> int:
    """The daemon, and beside it the /metrics server when one was asked."""
    if metrics_sock is None:
        return await daemon.serve(listeners, publish=publish)
    async with trio.open_nursery() as nursery:
        await nursery.start(_metrics.serve, daemon, metrics_sock)
        rc = await daemon.serve(listeners, publish=publish)
        nursery.cancel_scope.cancel()
    return rc


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    # paths given relative to where we were started, then leave that
    # directory: nothing of ours may resolve against it (it may be a
    # user's), and the workers start in "/" too
    for key in ("socket", "config", "state_dir"):
        if getattr(args, key):
            setattr(args, key, os.path.abspath(getattr(args, key)))
    os.chdir("/")
    _pin_malloc_thresholds()
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(), format="tracerd: %(levelname)s: %(message)s")
    # a stop signal between binding the socket (clients may connect from
    # then on) and Trio's receiver must not kill us with the socket left
    # behind: hold SIGTERM/SIGINT pending until serve() takes them over
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        config = _config.load(args.config)
        metrics_at = args.metrics_listen or config.metrics_listen
        metrics_sock = _metrics.bind(metrics_at) if metrics_at else None
        listeners = listen_fds()
        path = publish = None
        if listeners:
            log.info("socket activation: %d socket(s) from systemd", len(listeners))
        else:
            if os.geteuid() != 0:
                log.warning("not running as root: only processes this user may ptrace can be traced")
            path = args.socket or DEFAULT_SOCKET
            bound = bind_unix(path, mode=args.socket_mode, group=resolve_group(args.socket_group))
            listeners, publish = [bound.sock], bound
            log.info("listening on %s", path)
    except TracerdError as exc:
        print(f"tracerd: {exc}", file=sys.stderr)
        return 1
    try:
        state_dir = args.state_dir or (os.path.dirname(path) if path and args.socket else DEFAULT_STATE_DIR)
        return trio.run(_serve, Daemon(config, state_dir), listeners, metrics_sock, publish)
    finally:
        if publish is not None:
            publish.discard()
        if metrics_sock is not None:
            metrics_sock.close()
        for s in listeners:
            s.close()
        if path is not None:
            try:
                if os.path.exists(path):
                    os.unlink(path)
            except OSError:
                pass


if __name__ == "__main__":
    sys.exit(main())
