"""cffi builder (API mode) for tracerd.native._catcher, the exec catcher of
the daemon's standing rules (catcher.c). A module of its own: it shares
nothing with the tracer loop and runs in a process of its own. Built like
the loop (_build.py): the cdef is catcher.h, the C file a source of its own."""

import os

from cffi import FFI

_here = os.path.dirname(os.path.abspath(__file__))

SOURCES = ["catcher.c"]
HEADERS = ["catcher.h"]


def _rel(name):
    # setuptools wants sources relative to the project (the directory it runs in)
    return os.path.relpath(os.path.join(_here, name))


ffibuilder = FFI()
with open(os.path.join(_here, "catcher.h")) as f:
    ffibuilder.cdef(f.read())
ffibuilder.set_source(
    "tracerd.native._catcher",
    '#include "catcher.h"\n',
    sources=[_rel(n) for n in SOURCES],
    depends=[_rel(n) for n in HEADERS],
    include_dirs=[_here],
    extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wno-unused-function"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
