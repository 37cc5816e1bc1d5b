"""The containers' broker trusts nobody by default, as the local stack's does: a client
that does not log in gets nothing, and a platform principal may not write IMS's facts."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError

from ims_testkit import RunningIms
from tests.containers.conftest import BUILD_TIMEOUT_S

pytestmark = [pytest.mark.containers, pytest.mark.timeout(BUILD_TIMEOUT_S)]

WAIT_S = 60.0  # bounded: a refusal arrives within a few round trips


async def test_an_anonymous_client_is_refused_and_the_platform_may_not_forge_a_fact(
    ims: RunningIms,
) -> None:
    anonymous = AIOKafkaProducer(bootstrap_servers=ims.bootstrap, request_timeout_ms=10_000)
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(anonymous.start(), WAIT_S)
    await anonymous.stop()

    platform = AIOKafkaProducer(**ims.aiokafka_config("platform"), request_timeout_ms=10_000)
    await asyncio.wait_for(platform.start(), WAIT_S)
    try:
        key = str(uuid4()).encode()
        # Its own role's topic is open to it; capture's ImageReady is not.
        await asyncio.wait_for(
            platform.send_and_wait(ims.topics["HostChanged"], b"{}", key=key), WAIT_S
        )
        with pytest.raises(TopicAuthorizationFailedError):
            await asyncio.wait_for(
                platform.send_and_wait(ims.topics["ImageReady"], b"{}", key=key), WAIT_S
            )
    finally:
        await platform.stop()
