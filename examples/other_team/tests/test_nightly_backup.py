"""The backup service's nightly capture, against a real IMS started by ims_testkit
(written from the IMS README's example)."""

import json
import sys
import uuid
from datetime import date

from confluent_kafka import Consumer, Producer
from ims_testkit import RunningIms, cloudevent
from ims_testkit.schemas.events import HostChanged, HostDisk, OperatingSystem

import schemas
from services.backup import nightly_capture


def test_our_own_packages_and_ims_testkit_live_side_by_side() -> None:
    assert schemas.BACKUP_RECORD_VERSION == 3
    assert "ims_testkit.schemas.events" in sys.modules
    assert not any(name.startswith("deploy") for name in sys.modules)


def test_a_nightly_capture_becomes_an_image(ims: RunningIms) -> None:
    account, host = uuid.uuid4(), uuid.uuid4()
    disk = ims.block_storage / f"{host}.raw"
    disk.write_bytes(bytes(range(256)) * 4096)
    request = nightly_capture(account, host, "db-01", date(2026, 11, 28))
    ecs_says = HostChanged(
        host_id=host,
        account_id=account,
        name="db-01",
        state="stopped",
        os=OperatingSystem(family="linux", distro="Debian", version="12"),
        memory_mb=4096,
        system_disk=HostDisk(disk_id=uuid.uuid4(), path=str(disk), format="raw", size_gb=20),
    )
    producer = Producer(ims.kafka_config())  # logged in as the platform (SCRAM)
    producer.produce(
        ims.topics["HostChanged"],
        key=str(host),
        value=cloudevent(ecs_says, subject=host, tenant=account, source="/ecs"),
    )
    producer.produce(
        ims.topics["CaptureRequested"],
        key=str(request.image_id),
        value=cloudevent(request, subject=request.image_id, tenant=account, source="/backup"),
    )
    assert producer.flush(30) == 0

    ready = _first(ims, "ImageReady", key=str(request.image_id))

    assert ready["data"]["name"] == "db-01-nightly-20261128"
    assert ready["data"]["account_id"] == str(account)
    assert ready["data"]["disk_format"] == "qcow2"
    assert ready["data"]["virtual_size_bytes"] == disk.stat().st_size


def _first(ims: RunningIms, event: str, key: str) -> dict[str, object]:
    consumer = Consumer(
        {
            **ims.kafka_config(),
            "group.id": f"platform-backup-test-{uuid.uuid4()}",  # groups start with the principal
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([ims.topics[event]])
    try:
        for _ in range(240):
            message = consumer.poll(0.5)
            if message is not None and not message.error() and message.key() == key.encode():
                found: dict[str, object] = json.loads(message.value())
                return found
    finally:
        consumer.close()
    raise AssertionError(f"no {event} for {key} within two minutes:\n{ims.logs('capture')}")
