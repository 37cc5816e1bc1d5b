"""A non-Python client speaks the published contract: kcat (librdkafka) writes a
CaptureRequested from the JSON Schema alone and reads the resulting ImageReady."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import jsonschema

from tests.harness import ServiceProcess
from tests.infra import TestStack
from tests.integration import facts

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "json"
# Debian's kcat on a librdkafka that can log in to Kafka 4 (deploy/bootstrap.sh).
KCAT = str(Path(sys.executable).parent / "kcat")


def validated(event: dict[str, Any], schema_file: str) -> dict[str, Any]:
    schema = json.loads((SCHEMAS / schema_file).read_text())
    jsonschema.validate(
        event, schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return event


def kcat_produce(
    stack: TestStack, topic: str, key: str, event: dict[str, Any], config: Path
) -> None:
    line = f"{key}|{json.dumps(event, ensure_ascii=False)}\n"
    subprocess.run(
        [KCAT, "-F", str(config), "-P", "-t", stack.topic(topic), "-K", "|"],
        input=line.encode(),
        check=True,
        timeout=30,
    )


def kcat_find(
    stack: TestStack, topic: str, key: str, config: Path, timeout: float = 90.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(
            [
                KCAT,
                "-F",
                str(config),
                "-C",
                "-t",
                stack.topic(topic),
                "-o",
                "beginning",
                "-e",
                "-q",
                "-f",
                "%k\t%s\n",
            ],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout.decode()
        for line in out.splitlines():
            record_key, _, value = line.partition("\t")
            if record_key == key:
                found: dict[str, Any] = json.loads(value)
                return found
        time.sleep(1)
    raise AssertionError(f"no {topic} record with key {key} within {timeout}s")


def cloud_event(event_type: str, subject: str, tenant: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid4()),
        "source": "/ecs/kcat-test",
        "type": event_type,
        "subject": subject,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "tenant": tenant,
        "sequence": 1,
        "data": data,
    }


def test_kcat_produces_a_capture_request_and_reads_image_ready(
    stack: TestStack, system: dict[str, ServiceProcess], tmp_path: Path
) -> None:
    assert shutil.which(KCAT), "deploy/bootstrap.sh makes .venv/bin/kcat"
    account, host_id, image_id = str(uuid4()), str(uuid4()), str(uuid4())
    disk = facts.make_disk(tmp_path, 128 * 1024)
    host = cloud_event(
        "ims.HostChanged.v1",
        host_id,
        account,
        {
            "host_id": host_id,
            "account_id": account,
            "name": "ecs-kcat",
            "state": "stopped",
            "memory_mb": 1024,
            "os": {"family": "linux", "distro": "Debian", "version": "12"},
            "system_disk": {
                "disk_id": str(uuid4()),
                "path": str(disk),
                "format": "raw",
                "size_gb": 20,
            },
        },
    )
    request = cloud_event(
        "ims.CaptureRequested.v1",
        image_id,
        account,
        {
            "image_id": image_id,
            "account_id": account,
            "host_id": host_id,
            "name": "kcat-镜像",
            "description": "made by kcat",
        },
    )
    # As the demo's files do it (README): the platform writes, the reader principal reads.
    ecs = stack.kafka_client_file("platform", tmp_path)
    reader = stack.kafka_client_file("reader", tmp_path)
    kcat_produce(stack, "HostChanged", host_id, validated(host, "HostChanged.v1.schema.json"), ecs)
    kcat_produce(
        stack,
        "CaptureRequested",
        image_id,
        validated(request, "CaptureRequested.v1.schema.json"),
        ecs,
    )

    found = kcat_find(stack, "ImageReady", image_id, reader)
    ready = validated(found, "ImageReady.v1.schema.json")

    assert ready["data"]["name"] == "kcat-镜像"
    assert ready["data"]["source"]["host_name"] == "ecs-kcat"
    assert ready["correlationid"] == request["id"]
