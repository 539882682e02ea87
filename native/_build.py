"""cffi builder (API mode) for tracerd.native._tracer.

The cdef lives in tracer.h; every C file includes it (through the private
header tr_internal.h), so the constants cffi exposes are the ones the C code
writes. The loop is split by job (see tr_internal.h for the map) and built
from `sources`, each file compiled on its own."""

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
    "tracer.c",
    "vectors.c",
]
HEADERS = ["tracer.h", "tr_internal.h"]


def _rel(name):
    # setuptools wants sources relative to the project (the directory it
    # runs in); absolute paths would scatter the object files
    return os.path.relpath(os.path.join(_here, name))


ffibuilder = FFI()
with open(os.path.join(_here, "tracer.h")) as f:
    ffibuilder.cdef(f.read())
ffibuilder.set_source(
    "tracerd.native._tracer",
    '#include "tracer.h"\n',
    sources=[_rel(n) for n in SOURCES],
    depends=[_rel(n) for n in HEADERS],
    include_dirs=[_here],
    extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wno-unused-function"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
