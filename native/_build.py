"""cffi builder (API mode) for tracerd.native._tracer.

The cdef lives in tracer.h (the C file includes the same header, so the
constants cffi exposes are the ones the C code writes)."""

import os

from cffi import FFI

_here = os.path.dirname(os.path.abspath(__file__))

ffibuilder = FFI()
with open(os.path.join(_here, "tracer.h")) as f:
    ffibuilder.cdef(f.read())
with open(os.path.join(_here, "tracer.c")) as f:
    _src = f.read()
ffibuilder.set_source(
    "tracerd.native._tracer",
    _src,
    include_dirs=[_here],
    extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wno-unused-function"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
