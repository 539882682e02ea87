"""The cffi builds compile every C file of native/ (a file left out of
_build.SOURCES would link only if nothing used it, and then silently be dead):
the loop's and the exec catcher's, both built by _build.py."""

from pathlib import Path

import tracerd.native
from tracerd.native import _build


def test_every_c_file_is_a_source():
    here = Path(tracerd.native.__file__).parent
    assert sorted(_build.SOURCES + _build.CATCHER_SOURCES) == sorted(p.name for p in here.glob("*.c"))
    for h in _build.HEADERS + _build.CATCHER_HEADERS:
        assert (here / h).is_file()
