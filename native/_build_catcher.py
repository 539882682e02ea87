"""cffi builder (API mode) for tracerd.native._catcher, the exec catcher of
the daemon's standing rules (catcher.c). A module of its own: it shares
nothing with the tracer loop and runs in a process of its own."""

import os

from cffi import FFI

_here = os.path.dirname(os.path.abspath(__file__))

ffibuilder = FFI()
with open(os.path.join(_here, "catcher.h")) as f:
    ffibuilder.cdef(f.read())
with open(os.path.join(_here, "catcher.c")) as f:
    _src = f.read()
ffibuilder.set_source(
    "tracerd.native._catcher",
    _src,
    include_dirs=[_here],
    extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wno-unused-function"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
