import pytest

from cli_helpers import Recs


@pytest.fixture
def recs():
    return Recs()
