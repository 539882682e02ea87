"""`tracectl stats`: the daemon's own figures (what `systemctl status` lacks)."""

from __future__ import annotations

import json
import sys

from ._cmd_daemon import _socket
from . import _remote
from ._text import printable

# (key, label, format) in the order printed
ROWS = (
    ("pid", "pid", str),
    ("version", "version", str),
    ("uptime_ns", "uptime", lambda ns: f"{ns / 1e9:.1f} s"),
    ("sessions", "sessions", str),
    ("sessions_total", "sessions since start", str),
    ("connections", "connections", str),
    ("records", "records forwarded", str),
    ("dropped", "records dropped", str),
    ("cpu_ns", "cpu", lambda ns: f"{ns / 1e9:.3f} s"),
    ("rss_kb", "rss", lambda kb: f"{kb / 1024:.1f} MiB"),
)


def add_parser(subparsers, name: str, help: str):
    p = subparsers.add_parser(name, help=help, description=help)
    p.add_argument("--json", action="store_true", help="one JSON object")
    from . import _options

    _options.strict_parser(p)  # bad arguments: one line and exit 1
    return p


def run(args) -> int:
    with _remote.Client(_socket(args)) as client:
        st = client.request("stats")
    if args.json:
        print(json.dumps(st))
        return 0
    width = max(len(label) for _, label, _ in ROWS)
    for key, label, fmt in ROWS:
        if key in st:  # an older daemon may not report every figure
            sys.stdout.write(f"{label:<{width}}  {printable(fmt(st[key]))}\n")
    return 0
