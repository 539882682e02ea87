"""Sink URLs -> SinkSpec (docs/sinks.md lists every scheme and option)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from tracerd import UsageError

POLICIES = ("block", "spool", "drop")
SCHEMES = ("syslog+tcp", "syslog+tls", "syslog+udp", "syslog+unix", "syslog+relp", "journal", "nats", "file")
SEVERITIES = {"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}
FACILITIES = {"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
              "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, **{f"local{i}": 16 + i for i in range(8)}}


def _pos_int(v: str) -> int:
    n = int(v)
    if n <= 0:
        raise ValueError("must be positive")
    return n


def _sev(v: str) -> int:
    if v in SEVERITIES:
        return SEVERITIES[v]
    n = int(v)
    if not 0 <= n <= 7:
        raise ValueError("must be 0-7 or a name")
    return n


def _fac(v: str) -> int:
    if v in FACILITIES:
        return FACILITIES[v]
    n = int(v)
    if not 0 <= n <= 23:
        raise ValueError("must be 0-23 or a name")
    return n


def _choice(*names):
    def check(v: str) -> str:
        if v not in names:
            raise ValueError(f"must be one of {', '.join(names)}")
        return v
    return check


def _path(v: str) -> str:
    if not v:
        raise ValueError("must name a file")
    return v


OPTIONS = {
    "policy": (_choice(*POLICIES), None),
    "queue": (_pos_int, 4096),
    "spool_bytes": (_pos_int, 64 << 20),
    "segment_bytes": (_pos_int, 1 << 20),
    "full": (_choice("oldest", "newest"), "oldest"),
    "backoff_ms": (_pos_int, 100),
    "backoff_max_ms": (_pos_int, 10_000),
    "batch": (_pos_int, 256),
    "enterprise": (_pos_int, 32473),
    "severity": (_sev, 6),
    "failed_severity": (_sev, None),
    "facility": (_fac, 1),
    "max_bytes": (_pos_int, None),
    "keep": (_pos_int, 5),
    "ca": (_path, None),
    "cert": (_path, None),
    "key": (_path, None),
    "server_name": (str, None),
    "stream": (str, None),
    "timeout_ms": (_pos_int, 5000),
    "drain_ms": (_pos_int, 10_000),
    "memfd_bytes": (_pos_int, 200_000),
}


@dataclass
class SinkSpec:
    """A parsed sink URL. `target`: (host, port) for network schemes, a path
    for unix/journal/file, (host, port, subject) for nats."""

    url: str
    scheme: str
    target: object
    policy: str
    name: str = ""
    options: dict = field(default_factory=dict)

    def opt(self, key: str):
        return self.options.get(key, OPTIONS[key][1])

    def to_dict(self) -> dict:
        return {"url": self.url, "policy": self.policy, "name": self.name, "options": dict(self.options)}

    @property
    def path_target(self) -> bool:
        """The target is a file-system path (file:, unix socket, journal)."""
        return self.scheme in ("file", "syslog+unix", "journal")


def _hostport(url: str, u) -> tuple[str, int]:
    try:
        port = u.port
    except ValueError:
        port = None
    if not u.hostname or port is None:
        raise UsageError(f"sink {url}: needs HOST:PORT")
    return u.hostname, port


def parse_url(url: str, *, default_policy: str = "block", name: str = "", overrides: dict | None = None) -> SinkSpec:
    """One sink URL -> SinkSpec; a bad one raises UsageError naming the problem.
    `overrides`: options given outside the URL (a [[sink]] table)."""
    if not isinstance(url, str) or ":" not in url:
        raise UsageError(f"sink {url!r}: not a URL (e.g. syslog+tcp://HOST:PORT, file:PATH)")
    scheme = url.split(":", 1)[0].lower()
    if scheme not in SCHEMES:
        hint = " (Fluent Forward and OTLP are not supported: see docs/sinks.md)" if scheme in ("fluent", "forward", "otlp", "otlp+grpc", "otlp+http") else ""
        raise UsageError(f"sink {url}: unknown scheme '{scheme}' (one of {', '.join(SCHEMES)}){hint}")
    u = urlsplit(url)
    opts: dict = {}
    for k, v in list(parse_qsl(u.query, keep_blank_values=True)) + list((overrides or {}).items()):
        if k not in OPTIONS:
            raise UsageError(f"sink {url}: unknown option '{k}'")
        try:
            opts[k] = OPTIONS[k][0](v) if isinstance(v, str) else OPTIONS[k][0](str(v))
        except ValueError as exc:
            raise UsageError(f"sink {url}: option {k}={v}: {exc}") from None
    if scheme == "file":
        target = url[len("file:"):].split("?", 1)[0]
        if target.startswith("//"):
            target = target[2:]
        if not target:
            raise UsageError(f"sink {url}: file: needs a path")
    elif scheme == "journal":
        target = url[len("journal:"):].split("?", 1)[0] or "/run/systemd/journal/socket"
    elif scheme == "syslog+unix":
        target = u.path
        if not target:
            raise UsageError(f"sink {url}: syslog+unix:// needs a socket path (syslog+unix:///dev/log)")
    elif scheme == "nats":
        host, port = _hostport(url, u)
        subject = u.path.lstrip("/")
        if not subject:
            raise UsageError(f"sink {url}: nats:// needs a subject (nats://HOST:PORT/SUBJECT)")
        target = (host, port, subject)
    else:
        target = _hostport(url, u)
    if scheme != "syslog+tls" and any(k in opts for k in ("ca", "cert", "key")):
        raise UsageError(f"sink {url}: ca/cert/key are options of syslog+tls://")
    if ("cert" in opts) != ("key" in opts):
        raise UsageError(f"sink {url}: cert and key go together")
    if "max_bytes" in opts and scheme != "file":
        raise UsageError(f"sink {url}: max_bytes is an option of file:")
    policy = opts.pop("policy", None) or default_policy
    if policy not in POLICIES:
        raise UsageError(f"sink {url}: unknown policy '{policy}'")
    return SinkSpec(url=url, scheme=scheme, target=target, policy=policy, name=name, options=opts)


def spec_from_dict(d: dict) -> SinkSpec:
    """The inverse of SinkSpec.to_dict (the sink process gets its spec so)."""
    spec = parse_url(d["url"], default_policy=d["policy"], name=d.get("name", ""))
    spec.policy = d["policy"]
    spec.options.update(d.get("options", {}))
    return spec
