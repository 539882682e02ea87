"""cffi builders (API mode) for the two extensions of tracerd.native.

- ``ffibuilder``: tracerd.native._tracer, the tracer loop. The cdef lives in
  tracer.h; every C file includes it (through the private header
  tr_internal.h), so the constants cffi exposes are the ones the C code
  writes. `struct tr_config` comes before it: tr_config.h, generated here
  from the worker config's table (native/_config.py's FIELDS, the one home
  of its keys) and pasted into the cdef too. The loop is split by job (see tr_internal.h for the map) and built
  from `SOURCES`, each file compiled on its own.
- ``catcher_builder``: tracerd.native._catcher, the exec catcher of the
  daemon's standing rules (catcher.c, cdef catcher.h). A module of its own:
  it shares nothing with the loop and runs in a process of its own.
"""

import os
import runpy

from cffi import FFI

_here = os.path.dirname(os.path.abspath(__file__))

# one file per job of the loop; tr_internal.h says which is which
SOURCES = [
    "msgpack.c",
    "plan.c",
    "tasks.c",
    "records.c",
    "memory.c",
    "stops.c",
    "ending.c",
    "seize.c",
    "inject.c",
    "tamper.c",
    "sockdiag.c",
    "tracer.c",
    "vectors.c",
    "unwind.c",
    "launch.c",
]
HEADERS = ["tr_config.h", "tracer.h", "tr_internal.h"]
CATCHER_SOURCES = ["catcher.c"]
CATCHER_HEADERS = ["catcher.h"]


def _rel(name):
    # setuptools wants sources relative to the project (the directory it
    # runs in); absolute paths would scatter the object files
    return os.path.relpath(os.path.join(_here, name))


def config_header() -> str:
    """tr_config.h's text, from native/_config.py (run by path: the package
    is not importable while it is being built)."""
    return runpy.run_path(os.path.join(_here, "_config.py"))["c_header"]()


def _write_config_header() -> str:
    text = config_header()
    path = os.path.join(_here, "tr_config.h")
    try:
        with open(path) as f:
            same = f.read() == text
    except OSError:
        same = False
    if not same:  # an unchanged file keeps its mtime: nothing recompiles for it
        with open(path, "w") as f:
            f.write(text)
    return text


def _builder(module: str, cdef: str, sources: list[str], headers: list[str], libraries: tuple = (), pre: str = "") -> FFI:
    ffi = FFI()
    with open(os.path.join(_here, cdef)) as f:
        ffi.cdef(pre + f.read())
    ffi.set_source(
        module,
        ('#include "tr_config.h"\n' if pre else "") + f'#include "{cdef}"\n',
        sources=[_rel(n) for n in sources],
        depends=[_rel(n) for n in headers] + ([_rel("_config.py")] if pre else []),
        include_dirs=[_here],
        libraries=list(libraries),
        extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wno-unused-function"],
    )
    return ffi


# libdw (elfutils): -k's unwinder (unwind.c), loaded with dlopen at the first
# stack taken, not linked: a run without -k maps none of libdw, libelf and
# their compression libraries. Building needs its header (Debian's libdw-dev),
# -k its library (libdw1).
ffibuilder = _builder("tracerd.native._tracer", "tracer.h", SOURCES, HEADERS, ("dl",), _write_config_header())
catcher_builder = _builder("tracerd.native._catcher", "catcher.h", CATCHER_SOURCES, CATCHER_HEADERS)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
    catcher_builder.compile(verbose=True)
