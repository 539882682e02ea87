"""Trace and notes on one stderr (`run` without -o): a note never lands
inside an open line (the matrix's `-f sh -c 'echo hi | cat'` row showed
`child_tidptr=0x7f...tracectl: Process N attached`: the printer's notes
stream was a second wrapper of stderr, so it did not see the open line).
The race is the clone's: several runs."""

from __future__ import annotations

import pytest

from test_run import NATIVE, tracectl

pytestmark = [pytest.mark.integration, pytest.mark.skipif(NATIVE is not None, reason=f"native loop missing: {NATIVE}")]


def test_a_note_starts_its_own_line():
    for _ in range(6):
        r = tracectl("-f", "sh", "-c", "echo hi | cat; echo hi | cat", capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        inside = [line for line in r.stderr.splitlines() if "tracectl: " in line and not line.startswith("tracectl: ")]
        assert inside == []
        assert r.stderr.count("tracectl: Process ") >= 4
