# tests/conftest.py
from collections.abc import Iterator

import pytest
from ims_testkit import Images, RunningIms, start_ims


@pytest.fixture(scope="session")
def ims() -> Iterator[RunningIms]:
    # Kafka, PostgreSQL and IMS's four services; stopped when the session ends.
    with start_ims(Images.from_env()) as running:
        yield running
