"""The broker trusts nobody by default: every client logs in (SASL/SCRAM), and what each
principal may write and read is exactly the catalogue's ACLs (schemas.access), so a fact
on ShareAccepted can only have been written by sharing."""

from __future__ import annotations

import asyncio
import json
import time
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from confluent_kafka import Consumer, KafkaError

from deploy.stack.kafka_access import ADMIN, apply_acls, broker_acls
from ims_testkit.tokens import Issuer
from schemas.access import Acl, acls, group_id
from schemas.generate import CONSUMERS
from schemas.topics import OPERATOR, READER
from tests.harness import SERVICES, Bus, ServiceProcess, eventually, service_process
from tests.infra import TestStack
from tests.integration import facts

WAIT_S = 60.0  # bounded: a refusal arrives within a few metadata round trips


def _catalogue_acls(stack: TestStack) -> list[Acl]:
    """What the broker holds for this session's prefix: resources directly under it (an
    own_deployment's nest one prefix deeper and are left out)."""
    prefix = stack.topic_prefix
    return [
        acl
        for acl in broker_acls(stack.kafka_bootstrap, stack.kafka_credentials(ADMIN))
        if acl.resource_name.startswith(prefix) and "." not in acl.resource_name[len(prefix) :]
    ]


async def test_the_broker_s_acls_are_the_catalogue(stack: TestStack) -> None:
    assert await asyncio.to_thread(_catalogue_acls, stack) == acls(CONSUMERS, stack.topic_prefix)


async def test_provisioning_again_removes_a_grant_the_catalogue_does_not_make(
    stack: TestStack,
) -> None:
    admin = stack.kafka_credentials(ADMIN)
    assert admin is not None
    wanted = acls(CONSUMERS, stack.topic_prefix)
    stray = Acl("ecs", "TOPIC", stack.topic("ShareAccepted"), "WRITE")
    added, _ = await asyncio.to_thread(apply_acls, stack.kafka_bootstrap, admin, [*wanted, stray])
    assert added == [stray]

    added, removed = await asyncio.to_thread(apply_acls, stack.kafka_bootstrap, admin, wanted)

    assert (added, removed) == ([], [stray])
    assert await asyncio.to_thread(_catalogue_acls, stack) == wanted


async def test_an_anonymous_client_can_neither_produce_nor_consume(stack: TestStack) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, request_timeout_ms=10_000)
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(producer.start(), WAIT_S)
    await producer.stop()
    consumer = AIOKafkaConsumer(
        stack.topic("ImageReady"),
        bootstrap_servers=stack.kafka_bootstrap,
        request_timeout_ms=10_000,
    )
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(consumer.start(), WAIT_S)
    await consumer.stop()


async def _send_as(stack: TestStack, principal: str, topic: str, key: str) -> None:
    async with Bus(stack, principal) as bus:
        await asyncio.wait_for(
            bus.send_raw(topic, key, json.dumps({"forged": key}).encode()), WAIT_S
        )


async def test_ecs_may_request_a_capture_but_not_share_nor_finish_one(
    stack: TestStack, system: dict[str, ServiceProcess]
) -> None:
    account, host, image = uuid4(), uuid4(), uuid4()
    async with Bus(stack, "ecs") as ecs:
        await ecs.send(facts.capture(account, host, image), subject=image, tenant=account)
    # The catalog took it (accepted, or refused for a host it never heard of): ecs's
    # record counts.
    async with Bus(stack) as admin:

        async def answered() -> bool:
            for topic in ("CaptureAccepted", "CaptureRefused"):
                if await admin.read(topic, lambda rs: True, key=str(image)):
                    return True
            return False

        await eventually(answered, timeout=90)

    forged = str(uuid4())
    for topic in ("ShareOffered", "ShareAccepted", "ImageReady"):
        with pytest.raises(TopicAuthorizationFailedError):
            await _send_as(stack, "ecs", topic, forged)
    async with Bus(stack) as admin:
        for topic in ("ShareOffered", "ShareAccepted", "ImageReady"):
            assert await admin.read(topic, lambda rs: True, key=forged) == [], topic
    for process in system.values():
        assert process.proc is not None
        assert process.proc.poll() is None, process.name


async def test_a_service_cannot_use_another_service_s_consumer_group(stack: TestStack) -> None:
    # sharing may read ImageReady, but the catalog's group is the catalog's alone.
    consumer = AIOKafkaConsumer(
        stack.topic("ImageReady"),
        **stack.kafka_client_config("sharing"),
        group_id=group_id("catalog", stack.topic_prefix),
        enable_auto_commit=False,
    )

    async def join() -> None:
        await asyncio.wait_for(consumer.start(), WAIT_S)
        await asyncio.wait_for(consumer.getmany(timeout_ms=5_000), WAIT_S)

    try:
        with pytest.raises(GroupAuthorizationFailedError):
            await join()
    finally:
        await consumer.stop()


def _first_fetch(stack: TestStack, principal: str, topic: str) -> list[KafkaError]:
    """The errors a consumer logged in as ``principal`` meets reading ``topic`` until a
    first partition's end (librdkafka reports a subscribed topic's refusal; aiokafka only
    logs it)."""
    consumer = Consumer(
        stack.librdkafka_config(principal)
        | {
            # A principal's groups start with its name (after the session's prefix).
            "group.id": f"{stack.topic_prefix}{principal}-{uuid4()}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
        }
    )
    errors: list[KafkaError] = []
    try:
        consumer.subscribe([stack.topic(topic)])
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            error = message.error() if message is not None else None
            if error is None:
                continue
            if error.code() == KafkaError._PARTITION_EOF:
                return errors
            errors.append(error)
            if error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED:
                return errors
    finally:
        consumer.close()
    raise AssertionError(f"{principal} reading {topic}: neither its end nor a refusal: {errors}")


async def test_the_reader_reads_the_facts_but_not_the_dead_letters(stack: TestStack) -> None:
    assert await asyncio.to_thread(_first_fetch, stack, READER, "ImageReady") == []
    [refused] = await asyncio.to_thread(_first_fetch, stack, READER, "DeadLetter")
    assert refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    # The operator reads them.
    assert await asyncio.to_thread(_first_fetch, stack, OPERATOR, "DeadLetter") == []


def test_every_service_runs_as_its_own_principal(stack: TestStack) -> None:
    issuer = Issuer.generate()
    for name in SERVICES:
        env = service_process(stack, name, issuer=issuer).env
        assert env["IMS_KAFKA_USERNAME"] == name
        assert env["IMS_KAFKA_PASSWORD"] == stack.kafka_secrets[name]
