"""What `tracectl` does before importing anything else, to start fast
(docs/performance.md, "Start-up").

`dataclasses` imports `inspect` (with it `ast`, `dis`, `tokenize`,
`linecache`: ~5-8 ms of every start here) for a single use: writing the
docstring of a dataclass that has none (`inspect.signature`). Every dataclass
on the `run` path has a docstring, so `defer_inspect()` lets `dataclasses`
import without it: `dataclasses` gets a stand-in that imports the real
module on its first attribute access. The stand-in is in `sys.modules` only
while `dataclasses` is imported; anything importing `inspect` later gets the
real module.
"""

from __future__ import annotations

import sys
import types


class _Inspect(types.ModuleType):
    """`inspect` as `dataclasses` sees it: the real module, imported on use."""

    def __getattr__(self, name: str):
        import importlib

        real = importlib.import_module("inspect")
        dc = sys.modules.get("dataclasses")
        if dc is not None and getattr(dc, "inspect", None) is self:
            dc.inspect = real  # later uses go straight to it
        return getattr(real, name)


def defer_inspect() -> None:
    """Import `dataclasses` now, with `inspect` deferred (see above); a no-op
    when either is imported already."""
    if "dataclasses" in sys.modules or "inspect" in sys.modules:
        return
    stub = _Inspect("inspect")
    sys.modules["inspect"] = stub
    try:
        import dataclasses  # noqa: F401
    finally:
        if sys.modules.get("inspect") is stub:
            del sys.modules["inspect"]
