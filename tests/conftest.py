"""Every test is `unit` or `integration` (markers registered in pyproject.toml):

- integration: needs root, real tracees, ptrace/seccomp, the native loop, the
  daemon or a receiver: the folders daemon/, native/, parity/, sinks/, tamper/ and the modules
  in INTEGRATION below, plus any test marked `integration` by hand;
- unit: everything else: `pytest -m unit` runs anywhere, in seconds.

Decided here by path, so that test files need no marker of their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# no per-example deadline: on a shared or loaded machine one slow example is
# the machine, not the code (property tests bound their work by max_examples)
settings.register_profile("tracerd", deadline=None)
settings.load_profile("tracerd")

HERE = Path(__file__).resolve().parent
INTEGRATION_DIRS = {"daemon", "native", "parity", "sinks", "tamper"}
# modules elsewhere that run real tracees, real filters or tracectl itself
INTEGRATION = {
    "bpfgen/test_live_filter.py", "bpfgen/test_cache.py", "bpfgen/test_tamper.py",
    "cli/test_run.py", "cli/test_process.py", "cli/test_hardening.py", "cli/test_seeing.py", "cli/test_top.py", "cli/test_options.py",
    "cli/test_strace_options.py",
    "decode/test_golden.py",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("integration") or item.get_closest_marker("unit"):
            continue
        try:
            rel = Path(item.fspath).resolve().relative_to(HERE)
        except ValueError:
            continue
        if rel.parts[0] in INTEGRATION_DIRS or rel.as_posix() in INTEGRATION:
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)
