"""Fixtures of the integration tests: the four services running for real."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

import pytest

from deploy.stack.aio import run_sync
from deploy.stack.kafka_access import provision_kafka, unprovision_kafka
from deploy.stack.provision import drop, provision
from ims_testkit.tokens import Issuer
from tests.harness import SERVICES, Bus, ServiceProcess, service_process
from tests.infra import TestStack


@pytest.fixture(scope="session")
def issuer() -> Issuer:
    """The platform's token issuer for the session: the services get only its public keys."""
    return Issuer.generate()


@pytest.fixture(scope="session")
def system(stack: TestStack, issuer: Issuer) -> Iterator[dict[str, ServiceProcess]]:
    """All four services, migrated and healthy, on the session's topics and database."""
    processes = {name: service_process(stack, name, issuer=issuer) for name in SERVICES}
    for process in processes.values():
        process.migrate()
    try:
        for process in processes.values():
            process.start()
        for process in processes.values():
            process.wait_healthy()
        yield processes
    finally:
        for process in processes.values():
            process.stop()


@pytest.fixture
async def bus(stack: TestStack) -> AsyncIterator[Bus]:
    async with Bus(stack) as connected:
        yield connected


@contextmanager
def own_deployment(stack: TestStack) -> Iterator[TestStack]:
    """A deployment of its own (database, roles, topics, so consumer groups too), beside
    the shared one, without either seeing the other's data."""
    token = secrets.token_hex(3)
    database, prefix = f"{stack.database}_{token}", f"{stack.topic_prefix}{token}."
    dsns = run_sync(
        lambda: provision(stack.admin_dsn, database, SERVICES, secret=stack.role_secret)
    )
    run_sync(lambda: provision_kafka(stack.kafka_bootstrap, stack.kafka_secrets, prefix))
    own = dataclasses.replace(stack, topic_prefix=prefix, database=database, dsns=dsns)
    for name in SERVICES:
        service_process(own, name, issuer=Issuer.generate()).migrate()
    try:
        yield own
    finally:
        run_sync(lambda: unprovision_kafka(stack.kafka_bootstrap, stack.kafka_secrets, prefix))
        run_sync(lambda: drop(stack.admin_dsn, database, SERVICES))


@pytest.fixture
def deployment(stack: TestStack) -> Iterator[TestStack]:
    """For a test that kills or restarts services: it runs its own service processes."""
    with own_deployment(stack) as own:
        yield own


@pytest.fixture(scope="module")
def quiet_deployment(stack: TestStack) -> Iterator[TestStack]:
    """A deployment no service process runs on, shared by a module's tests."""
    with own_deployment(stack) as own:
        yield own


Spawn = Callable[[TestStack, str], ServiceProcess]


@pytest.fixture
def spawn(issuer: Issuer) -> Iterator[Spawn]:
    """Makes service processes for a test and stops every one of them when it ends, also
    when it fails or times out half-way (a test never leaks a process)."""
    made: list[ServiceProcess] = []

    def make(stack: TestStack, name: str) -> ServiceProcess:
        process = service_process(stack, name, issuer=issuer)
        made.append(process)
        return process

    yield make
    for process in reversed(made):
        process.stop()
