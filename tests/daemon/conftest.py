"""Fixtures for the daemon tests (defined in daemon_helpers.py)."""

from daemon_helpers import daemon, sleeper_bin, sockdir, test_user  # noqa: F401
