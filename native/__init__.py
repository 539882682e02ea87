"""The native tracer loop (C via cffi) and its worker process.

Public surface: `spawn_worker(config, pass_fds)` starts the worker as its own
process; `worker_main(config)` runs it in the current one. The cffi extension
(`tracerd.native._tracer`) stays private.
"""

from ._worker import spawn_worker, worker_main

__all__ = ["spawn_worker", "worker_main"]
