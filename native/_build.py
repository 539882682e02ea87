"""cffi builder (API mode) for tracerd.native._tracer."""

import os

from cffi import FFI

_here = os.path.dirname(os.path.abspath(__file__))

ffibuilder = FFI()
with open(os.path.join(_here, "tracer.h")) as f:
    ffibuilder.cdef(f.read())
with open(os.path.join(_here, "tracer.c")) as f:
    _src = f.read()
ffibuilder.set_source("tracerd.native._tracer", _src, extra_compile_args=["-O2", "-std=gnu11", "-Wall"])

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
