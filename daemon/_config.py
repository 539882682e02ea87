"""The daemon's configuration file (TOML, read with tomllib).

    [limits]
    sessions_per_user = 16     # sessions a non-root user may own at once
    watchers_per_user = 64     # subscriptions (watch) a non-root user may hold
    connections_per_user = 64
    connects_per_second = 50   # a non-root user's new connections per second (burst: twice that)
    queue_frames = 64          # frame batches queued per subscriber (bounded memory)
    queue_bytes = 1048576      # and at most this many bytes (one batch may exceed it)
    drain_seconds = 5          # SIGTERM: time given to sessions to detach/end
    pids_per_request = 64      # pids one attach request may name
    worker_memory_mib = 1024   # address-space ceiling of a non-root owner's worker
    warm_workers = 1           # workers kept started for the next sessions (0: none)

    [metrics]
    listen = "127.0.0.1:9464"  # serve Prometheus /metrics here (--metrics-listen wins)

    [grant]
    trace_any = ["ops"]        # groups whose members may trace any process
    watch_any = ["ops"]        # groups whose members may watch/ls any session
"""

from __future__ import annotations

import grp
import tomllib
from dataclasses import dataclass, field

from tracerd import UsageError

from . import _sinkconf


@dataclass
class Config:
    sessions_per_user: int = 16
    watchers_per_user: int = 64
    connections_per_user: int = 64
    connects_per_second: float = 50.0
    queue_frames: int = 64
    queue_bytes: int = 1 << 20
    drain_seconds: float = 5.0
    pids_per_request: int = 64
    worker_memory_mib: int = 1024
    warm_workers: int = 1  # daemon/_warm.py
    trace_any: frozenset[int] = field(default_factory=frozenset)  # gids
    watch_any: frozenset[int] = field(default_factory=frozenset)
    # [[sink]] and [spool] (daemon/_sinkconf.py)
    sinks: dict = field(default_factory=dict)  # name -> tracerd.client.sinks.SinkSpec
    state_dir: str | None = None
    spool_per_uid: int = 256 << 20
    metrics_listen: str | None = None  # [metrics] listen: HOST:PORT for /metrics
    # standing rules (daemon/_rules.py): [[rule]] and [catcher]
    path: str | None = None
    rules: list = field(default_factory=list)
    catcher: object = None


_LIMITS = {"sessions_per_user": int, "watchers_per_user": int, "connections_per_user": int, "connects_per_second": (int, float), "queue_frames": int, "queue_bytes": int, "drain_seconds": (int, float), "pids_per_request": int, "worker_memory_mib": int, "warm_workers": int}


def _gids(path: str, key: str, names) -> frozenset[int]:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise UsageError(f"{path}: grant.{key} must be a list of group names")
    out = set()
    for n in names:
        try:
            out.add(grp.getgrnam(n).gr_gid)
        except KeyError:
            raise UsageError(f"{path}: grant.{key}: unknown group '{n}'") from None
    return frozenset(out)


def load(path: str | None) -> Config:
    cfg = Config()
    if path is None:
        return cfg
    from . import _rules

    _rules.check_file(path)  # rules run as root: the file must be root's alone
    cfg.path = path
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: {exc}") from None
    for section in data:
        if section not in ("limits", "grant", "metrics", "rule", "catcher", *_sinkconf.SECTIONS):
            raise UsageError(f"{path}: unknown section [{section}]")
    _sinkconf.load(path, data, cfg)
    for k, v in data.get("limits", {}).items():
        if k not in _LIMITS:
            raise UsageError(f"{path}: unknown setting limits.{k}")
        if k == "warm_workers":
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 16:
                raise UsageError(f"{path}: limits.warm_workers must be 0..16")
        elif not isinstance(v, _LIMITS[k]) or isinstance(v, bool) or v <= 0:
            raise UsageError(f"{path}: limits.{k} must be a positive number")
        setattr(cfg, k, v)
    for k, v in data.get("metrics", {}).items():
        if k != "listen" or not isinstance(v, str):
            raise UsageError(f"{path}: unknown setting metrics.{k}" if k != "listen" else f"{path}: metrics.listen must be a string HOST:PORT")
        cfg.metrics_listen = v
    for k, v in data.get("grant", {}).items():
        if k not in ("trace_any", "watch_any"):
            raise UsageError(f"{path}: unknown setting grant.{k}")
        setattr(cfg, k, _gids(path, k, v))
    cfg.rules, cfg.catcher = _rules.parse(path, data)
    return cfg
