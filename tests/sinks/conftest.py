import os
import sys

import pytest

# the daemon tests' helpers (a real daemon's readiness, the real test user)
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))

from sink_helpers import build_burst


@pytest.fixture(scope="session")
def burst(tmp_path_factory):
    return build_burst(str(tmp_path_factory.mktemp("burst")))
