"""The native tracer loop (C via cffi) and its worker process.

Public surface: `spawn_worker(config, pass_fds)` starts the worker as its own
process; `fork_worker()` forks one now that `start(config, pass_fds)` later
hands its config (cheaper: no fresh interpreter); `worker_main(config)` runs
it in the current one. The cffi extension
(`tracerd.native._tracer`) stays private.
"""

from ._worker import ForkedWorker, fork_worker, spawn_worker, worker_main

__all__ = ["ForkedWorker", "fork_worker", "spawn_worker", "worker_main"]
