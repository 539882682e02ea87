import shutil

import pytest

from sink_helpers import build_burst


@pytest.fixture(scope="session")
def burst(tmp_path_factory):
    return build_burst(str(tmp_path_factory.mktemp("burst")))


def need(binary: str, package: str):
    if shutil.which(binary) is None and not __import__("os").path.exists(binary):
        pytest.skip(f"{binary} missing (apt-get install {package}; scripts/setup does)")
