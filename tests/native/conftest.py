"""Fixtures for the native tests (defined in native_helpers.py)."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from native_helpers import cbuild  # noqa: E402,F401
