"""cffi builders (API mode) for the two extensions of tracerd.native.

- ``ffibuilder``: tracerd.native._tracer, the tracer loop. The cdef lives in
  tracer.h; every C file includes it (through the private header
  tr_internal.h), so the constants cffi exposes are the ones the C code
  writes. The loop is split by job (see tr_internal.h for the map) and built
  from `SOURCES`, each file compiled on its own.
- ``catcher_builder``: tracerd.native._catcher, the exec catcher of the
  daemon's standing rules (catcher.c, cdef catcher.h). A module of its own:
  it shares nothing with the loop and runs in a process of its own.
"""

import os

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
HEADERS = ["tracer.h", "tr_internal.h"]
CATCHER_SOURCES = ["catcher.c"]
CATCHER_HEADERS = ["catcher.h"]


def _rel(name):
    # setuptools wants sources relative to the project (the directory it
    # runs in); absolute paths would scatter the object files
    return os.path.relpath(os.path.join(_here, name))


def _builder(module: str, cdef: str, sources: list[str], headers: list[str], libraries: tuple = ()) -> FFI:
    ffi = FFI()
    with open(os.path.join(_here, cdef)) as f:
        ffi.cdef(f.read())
    ffi.set_source(
        module,
        f'#include "{cdef}"\n',
        sources=[_rel(n) for n in sources],
        depends=[_rel(n) for n in headers],
        include_dirs=[_here],
        libraries=list(libraries),
        extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wno-unused-function"],
    )
    return ffi


# libdw (elfutils): -k's unwinder (unwind.c), loaded with dlopen at the first
# stack taken, not linked: a run without -k maps none of libdw, libelf and
# their compression libraries. Building needs its header (Debian's libdw-dev),
# -k its library (libdw1).
ffibuilder = _builder("tracerd.native._tracer", "tracer.h", SOURCES, HEADERS, ("dl",))
catcher_builder = _builder("tracerd.native._catcher", "catcher.h", CATCHER_SOURCES, CATCHER_HEADERS)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
    catcher_builder.compile(verbose=True)
