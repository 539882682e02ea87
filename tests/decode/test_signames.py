"""Signal names live once (tracerd._signals): the decoder, the printer's
`+++ killed by` line and the -e signal= parser agree with strace 6.1, which
names the kernel's signal 32 SIGRTMIN and 32+n SIGRT_n."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tracerd._signals import SIGNAL_NUMBERS, signame
from tracerd.bpfgen._qualify import _signal_number
from tracerd.client import _output
from tracerd.client.decode import _flags


@pytest.mark.parametrize("n,name", [(9, "SIGKILL"), (31, "SIGSYS"), (32, "SIGRTMIN"), (33, "SIGRT_1"), (64, "SIGRT_32")])
def test_one_name_everywhere(n, name):
    assert signame(n) == _flags.signame(n) == _output.signame(n) == name
    assert _signal_number(name) == SIGNAL_NUMBERS[name] == n


def test_unknown_number():
    assert signame(65) is None and _output.signame(65) == "65"


@pytest.mark.integration
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (ptrace)")
def test_killed_by_sigrtmin_as_strace(tmp_path):
    """A command killed by signal 32: `+++ killed by SIGRTMIN +++` (was
    SIGRT_0), and no RuntimeWarning from re-raising a signal glibc reserves."""
    out = tmp_path / "trace.txt"
    res = subprocess.run([sys.executable, "-c", "import sys; from tracerd.client import main; sys.exit(main())",
                          "--embedded", "run", "-e", "trace=none", "-o", str(out), "--", "sh", "-c", "kill -32 $$"],
                         capture_output=True, text=True, timeout=60)
    assert "Warning" not in res.stderr, res.stderr
    assert out.read_text().splitlines()[-1] == "+++ killed by SIGRTMIN +++"
