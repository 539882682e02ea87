"""A handful of the strace matrix's rows (tests/parity/matrix.py; the whole
matrix is run by hand): each must stay identical or equivalent to strace
6.1's output. Rows chosen for what was fixed: -e kvm=vcpu (was refused),
-e abbrev=none (an environment cut at 32 strings), the -c table's
normalisation."""

from __future__ import annotations

import pytest

from . import matrix
from .test_parity import _skip

ROWS = ["-e kvm=vcpu true", "-e abbrev=none -e trace=execve true", "-C cat f.txt", "-y -e trace=read cat f.txt"]


@pytest.mark.skipif(_skip() is not None, reason=_skip() or "")
@pytest.mark.parametrize("line", ROWS)
def test_matrix_row(line):
    row = next(r for r in matrix.ROWS if r.line == line)
    s = matrix._run(["strace"], row)
    t = matrix._run(matrix.tracectl(), row)
    cls, note = matrix.classify(row, s, t)
    assert cls in ("identical", "equivalent"), f"{cls}: {note}"
