"""`[[sink]]` tables and the `[spool]` table of the daemon's configuration.

    [spool]
    dir = "/var/lib/tracerd"        # state directory (default: $STATE_DIRECTORY, else /var/lib/tracerd)
    per_uid_bytes = 268435456       # all of one non-root uid's spools together

    [[sink]]
    name = "central"
    url = "syslog+relp://collector.example:2514"
    policy = "spool"                # block | spool | drop (default spool)
    queue = 4096                    # any option of docs/sinks.md's table, as in a URL
    spool_bytes = 67108864
    full = "oldest"
    ca = "/etc/tracerd/ca.pem"      # TLS files (syslog+tls)

Rules refer to sinks by name (Config.sinks: name -> SinkSpec).
"""

from __future__ import annotations

import os

from tracerd import UsageError

SECTIONS = ("sink", "spool")


def load(path: str, data: dict, cfg) -> None:
    """Fill cfg.sinks, cfg.state_dir and cfg.spool_per_uid from `data`."""
    from tracerd.client.sinks import parse_url
    from tracerd.client.sinks._url import OPTIONS

    spool = data.get("spool", {})
    if not isinstance(spool, dict):
        raise UsageError(f"{path}: [spool] must be a table")
    for k, v in spool.items():
        if k == "dir":
            if not isinstance(v, str) or not v.startswith("/"):
                raise UsageError(f"{path}: spool.dir must be an absolute path")
            cfg.state_dir = v
        elif k == "per_uid_bytes":
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise UsageError(f"{path}: spool.per_uid_bytes must be a positive number")
            cfg.spool_per_uid = v
        else:
            raise UsageError(f"{path}: unknown setting spool.{k}")
    tables = data.get("sink", [])
    if not isinstance(tables, list):
        raise UsageError(f"{path}: sinks are [[sink]] tables")
    sinks = {}
    for i, t in enumerate(tables):
        where = f"{path}: [[sink]] #{i + 1}"
        if not isinstance(t, dict):
            raise UsageError(f"{where}: not a table")
        name = t.get("name")
        if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_." for c in name):
            raise UsageError(f"{where}: needs a name (letters, digits, - _ .)")
        if name in sinks:
            raise UsageError(f"{where}: a second sink named '{name}'")
        url = t.get("url")
        if not isinstance(url, str):
            raise UsageError(f"{where} ({name}): needs a url")
        extra = {}
        for k, v in t.items():
            if k in ("name", "url"):
                continue
            if k not in OPTIONS:
                raise UsageError(f"{where} ({name}): unknown setting '{k}'")
            if isinstance(v, bool) or not isinstance(v, (str, int)):
                raise UsageError(f"{where} ({name}): {k} must be a string or a number")
            extra[k] = str(v)
        try:
            sinks[name] = parse_url(url, default_policy="spool", name=name, overrides=extra)
        except UsageError as exc:
            raise UsageError(f"{where} ({name}): {exc}") from None
    cfg.sinks = sinks


def state_dir(cfg) -> str:
    return cfg.state_dir or os.environ.get("STATE_DIRECTORY", "").split(":")[0] or "/var/lib/tracerd"
