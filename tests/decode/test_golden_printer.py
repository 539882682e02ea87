"""Golden programs for what the printer adds to a call's line (options
beyond the decoder's): each program writes the lines strace prints, in
order, once at its end; they must come as one unbroken block in strace's
output (the expectation is strace's) and in `tracectl run`'s with the same
options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from . import _harness as H

GOLDEN = Path(__file__).parent / "golden"

# program -> (the calls traced, the other options)
CASES = {
    # -e read=/write= hex dumps (client/_dumps.py)
    "dumps": (["write", "read", "pwrite64", "writev", "readv", "vmsplice", "sendmsg", "recvmsg", "sendmmsg",
               "recvmmsg", "sendto", "recvfrom", "mq_timedsend", "mq_timedreceive"],
              ["-e", "write=41,42,44", "-e", "read=40,43,44"]),
}

pytestmark = pytest.mark.skipif(H.skip_reason() is not None, reason=H.skip_reason() or "")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("golden_printer")
    return {name: H.compile_c(GOLDEN / f"{name}.c", d, ["-I", str(GOLDEN)]) for name in CASES}


def _expected(path: Path) -> list[str]:
    return [H.unalign(l) for l in path.read_text().splitlines() if l]


def _block(expected: list[str], got: list[str]) -> list[str] | None:
    """The lines of `got` from the first expected one on, as many as expected."""
    try:
        i = got.index(expected[0])
    except ValueError:
        return None
    return got[i : i + len(expected)]


@pytest.mark.parametrize("prog", sorted(CASES))
def test_golden_printer(prog, built, tmp_path):
    names, opts = CASES[prog]
    exe = built[prog]
    # 1. the expectation is what strace prints
    ref_out = tmp_path / "ref.txt"
    ref = H.strace_lines([str(exe), str(ref_out)], names, opts)
    expected = _expected(ref_out)
    assert expected, "the program wrote no expectation"
    assert _block(expected, ref) == expected, f"expectation differs from strace:\n{expected}\nstrace: {ref}"
    # 2. tracectl prints the same block
    log, out = tmp_path / "log.txt", tmp_path / "exp.txt"
    tracectl = Path(sys.executable).with_name("tracectl")
    res = subprocess.run([str(tracectl), "--embedded", "run", "-qq", "-e", "trace=" + ",".join(names), *opts,
                          "-o", str(log), str(exe), str(out)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    ours = [H.unalign(l) for l in log.read_text().splitlines()]
    expected = _expected(out)
    assert _block(expected, ours) == expected, f"not reproduced:\n{expected}\nours: {ours}"
